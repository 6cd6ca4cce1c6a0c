package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goeventstore/eventstore"
)

// AccountOpened and MoneyDeposited are the domain events of the examples.
type AccountOpened struct {
	Owner string
}

type MoneyDeposited struct {
	Amount int
}

func ExampleWireup() {
	ctx := context.Background()
	store, err := eventstore.Wireup().
		UsingInMemory().
		RegisterType("AccountOpened", AccountOpened{}).
		RegisterType("MoneyDeposited", MoneyDeposited{}).
		UsingSyncDispatch().
		DispatchTo(func(ctx context.Context, c eventstore.Commit) error {
			fmt.Printf("dispatched %s revision %d\n", c.StreamID, c.StreamRevision)
			return nil
		}).
		Build(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close(ctx)

	stream, _ := store.CreateStream("account-1")
	stream.Add(eventstore.EventMessage{Body: AccountOpened{Owner: "Ann"}})
	if _, err := stream.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// dispatched account-1 revision 1
}

func ExampleStream_CommitChanges() {
	ctx := context.Background()
	store, _ := eventstore.Wireup().RegisterType("MoneyDeposited", MoneyDeposited{}).Build(ctx)
	defer store.Close(ctx)

	stream, _ := store.OpenStream(ctx, "account-1", 0, 0) // open or create
	stream.SetHeader("user", "ann")
	stream.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 100}})
	stream.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 50}})
	c, err := stream.CommitChanges(ctx, eventstore.NewCommitID())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("commit sequence", c.CommitSequence, "revision", c.StreamRevision, "events", len(c.Events))

	again, _ := store.OpenStream(ctx, "account-1", 0, 0)
	for _, e := range again.CommittedEvents() {
		fmt.Printf("%T %+v\n", e.Body, e.Body)
	}

	// Committing nothing does nothing.
	c, err = again.CommitChanges(ctx, eventstore.NewCommitID())
	fmt.Println(c, err)
	// Output:
	// commit sequence 1 revision 2 events 2
	// eventstore_test.MoneyDeposited {Amount:100}
	// eventstore_test.MoneyDeposited {Amount:50}
	// <nil> <nil>
}

// Two writers read the same stream; the second one to commit gets
// ErrConcurrency, finds its stream refreshed, decides, and retries.
func ExampleStream_CommitChanges_conflict() {
	ctx := context.Background()
	store, _ := eventstore.Wireup().RegisterType("MoneyDeposited", MoneyDeposited{}).Build(ctx)
	defer store.Close(ctx)

	alice, _ := store.OpenStream(ctx, "account-1", 0, 0)
	bob, _ := store.OpenStream(ctx, "account-1", 0, 0)

	alice.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 10}})
	alice.CommitChanges(ctx, eventstore.NewCommitID())

	bob.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 20}})
	_, err := bob.CommitChanges(ctx, eventstore.NewCommitID())
	if errors.Is(err, eventstore.ErrConcurrency) {
		fmt.Println("conflict; bob now sees revision", bob.StreamRevision(),
			"and still holds", len(bob.UncommittedEvents()), "uncommitted event")
		c, err := bob.CommitChanges(ctx, eventstore.NewCommitID()) // still valid: retry
		fmt.Println("retried:", c.StreamRevision, err)
	}
	// Output:
	// conflict; bob now sees revision 1 and still holds 1 uncommitted event
	// retried: 2 <nil>
}

// Committing the same commit ID twice stores it once.
func ExampleStream_CommitChanges_duplicate() {
	ctx := context.Background()
	store, _ := eventstore.Wireup().Build(ctx)
	defer store.Close(ctx)

	id := eventstore.NewCommitID() // e.g. derived from the command being handled
	for range 2 {
		stream, _ := store.OpenStream(ctx, "account-1", 0, 0)
		stream.Add(eventstore.EventMessage{Body: "deposit 10"})
		_, err := stream.CommitChanges(ctx, id)
		fmt.Println(errors.Is(err, eventstore.ErrDuplicateCommit))
	}
	// Output:
	// false
	// true
}

// A reader (a projection, say) keeps the last checkpoint it processed and
// reads from there.
func ExampleStore_Commits() {
	ctx := context.Background()
	store, _ := eventstore.Wireup().Build(ctx)
	defer store.Close(ctx)
	for _, id := range []string{"a", "b", "c"} {
		s, _ := store.CreateStream(id)
		s.Add(eventstore.EventMessage{Body: "created " + id})
		s.CommitChanges(ctx, eventstore.NewCommitID())
	}

	var checkpoint int64
	for c, err := range store.Commits(ctx, checkpoint) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.StreamID, c.Events[0].Body)
		checkpoint = c.Checkpoint
		if c.StreamID == "b" {
			break // stop anywhere; resume from checkpoint later
		}
	}
	for c, err := range store.Commits(ctx, checkpoint) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("resumed:", c.StreamID)
	}
	// Output:
	// a created a
	// b created b
	// resumed: c
}

// A projection that needs to decode only some commits reads the engine's
// commits, which carry their position, stream and ID with the payload
// still encoded, and decodes just those it acts on.
func ExampleStore_Decode() {
	ctx := context.Background()
	store, _ := eventstore.Wireup().Build(ctx)
	defer store.Close(ctx)
	for _, id := range []string{"order-1", "invoice-1", "order-2"} {
		store.Append(ctx, id, eventstore.NoStream, eventstore.NewCommitID(), eventstore.EventMessage{Body: "created " + id})
	}

	for pc, err := range store.Engine().ReadAll(ctx, 0) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if !strings.HasPrefix(pc.StreamID, "order-") {
			continue // never decoded
		}
		c, keep, err := store.Decode(ctx, pc)
		if err != nil {
			fmt.Println(err)
			return
		}
		if keep {
			fmt.Println(c.Checkpoint, c.StreamID, c.Events[0].Body)
		}
	}
	// Output:
	// 1 order-1 created order-1
	// 3 order-2 created order-2
}

// A projection that needs only each commit's headers (who made it, say)
// reads them without decoding the events.
func ExampleStore_DecodeHeaders() {
	ctx := context.Background()
	store, _ := eventstore.Wireup().RegisterType("MoneyDeposited", MoneyDeposited{}).Build(ctx)
	defer store.Close(ctx)
	for i, user := range []string{"ann", "bob"} {
		stream, _ := store.OpenStream(ctx, "account-"+strconv.Itoa(i+1), 0, 0)
		stream.SetHeader("user", user)
		stream.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 100}})
		stream.CommitChanges(ctx, eventstore.NewCommitID())
	}

	for pc, err := range store.Engine().ReadAll(ctx, 0) {
		if err != nil {
			fmt.Println(err)
			return
		}
		headers, err := store.DecodeHeaders(pc)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(pc.Checkpoint, pc.StreamID, headers["user"])
	}
	// Output:
	// 1 account-1 ann
	// 2 account-2 bob
}

// A snapshot saves a stream's state so that opening it replays only what
// came after.
func ExampleStore_AddSnapshot() {
	type Balance struct{ Total int }
	ctx := context.Background()
	store, _ := eventstore.Wireup().
		RegisterType("MoneyDeposited", MoneyDeposited{}).
		RegisterType("Balance", Balance{}).
		Build(ctx)
	defer store.Close(ctx)

	stream, _ := store.CreateStream("account-1")
	for _, amount := range []int{10, 20, 30} {
		stream.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: amount}})
		stream.CommitChanges(ctx, eventstore.NewCommitID())
	}
	store.AddSnapshot(ctx, stream.Snapshot(Balance{Total: 60}))
	stream.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 5}})
	stream.CommitChanges(ctx, eventstore.NewCommitID())

	snap, _ := store.LatestSnapshot(ctx, "account-1", 0)
	balance := snap.Payload.(Balance)
	fromSnap, _ := store.OpenStreamFromSnapshot(ctx, snap, 0)
	for _, e := range fromSnap.CommittedEvents() {
		balance.Total += e.Body.(MoneyDeposited).Amount
	}
	fmt.Println("snapshot at", snap.StreamRevision, "replayed", len(fromSnap.CommittedEvents()),
		"event, balance", balance.Total, "at revision", fromSnap.StreamRevision())
	// Output:
	// snapshot at 3 replayed 1 event, balance 65 at revision 4
}

// Serialization: JSON by default; bodies of registered types come back as
// those types, others in encoding/json's generic form. Gob, compression and
// AES-GCM encryption are options; a wrong key is an error, never garbage.
func ExampleTypeRegistry() {
	ctx := context.Background()
	key := bytes.Repeat([]byte{42}, 32) // keep real keys out of source code
	store, _ := eventstore.Wireup().
		UsingJSONSerialization().
		RegisterType("MoneyDeposited", MoneyDeposited{}).
		Compress().
		EncryptWith(key).
		Build(ctx)
	defer store.Close(ctx)

	stream, _ := store.CreateStream("account-1")
	stream.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 7}})
	stream.Add(eventstore.EventMessage{Body: AccountOpened{Owner: "Ann"}}) // not registered
	stream.CommitChanges(ctx, eventstore.NewCommitID())

	again, _ := store.OpenStream(ctx, "account-1", 0, 0)
	for _, e := range again.CommittedEvents() {
		fmt.Printf("%T %v\n", e.Body, e.Body)
	}
	// Output:
	// eventstore_test.MoneyDeposited {7}
	// map[string]interface {} map[Owner:Ann]
}

// Pipeline hooks see commits on their way in and out: here one vetoes
// commits without a user header, another upconverts old events on read.
func ExampleHookFuncs() {
	ctx := context.Background()
	requireUser := eventstore.HookFuncs{
		PreCommitFunc: func(ctx context.Context, a eventstore.CommitAttempt) error {
			if a.Headers["user"] == nil {
				return errors.New("no user header")
			}
			return nil
		},
	}
	upconvert := eventstore.HookFuncs{
		SelectCommitFunc: func(ctx context.Context, c eventstore.Commit) (eventstore.Commit, bool, error) {
			for i, e := range c.Events {
				if s, ok := e.Body.(string); ok {
					c.Events[i].Body = "v2(" + s + ")"
				}
			}
			return c, true, nil
		},
	}
	store, _ := eventstore.Wireup().HookIntoPipelineUsing(requireUser, upconvert).Build(ctx)
	defer store.Close(ctx)

	stream, _ := store.CreateStream("s")
	stream.Add(eventstore.EventMessage{Body: "opened"})
	_, err := stream.CommitChanges(ctx, eventstore.NewCommitID())
	fmt.Println(errors.Is(err, eventstore.ErrVetoed))
	stream.SetHeader("user", "ann")
	stream.CommitChanges(ctx, eventstore.NewCommitID())

	again, _ := store.OpenStream(ctx, "s", 0, 0)
	fmt.Println(again.CommittedEvents()[0].Body)
	// Output:
	// true
	// v2(opened)
}

// Serializers can be used on their own too. A payload encrypted under one
// key does not decrypt under another: the error says so.
func ExampleEncryptWith() {
	types := eventstore.NewTypeRegistry()
	types.Register("MoneyDeposited", MoneyDeposited{})
	right, _ := eventstore.EncryptWith(eventstore.Compress(eventstore.NewGobSerializer(types)), bytes.Repeat([]byte{1}, 16))
	wrong, _ := eventstore.EncryptWith(eventstore.Compress(eventstore.NewGobSerializer(types)), bytes.Repeat([]byte{2}, 16))

	data, _ := right.MarshalCommit(nil, []eventstore.EventMessage{{Body: MoneyDeposited{Amount: 3}}})
	_, events, err := right.UnmarshalCommit(data)
	fmt.Printf("%+v %v\n", events[0].Body, err)
	_, _, err = wrong.UnmarshalCommit(data)
	fmt.Println(errors.Is(err, eventstore.ErrDecrypt), err)
	// Output:
	// {Amount:3} <nil>
	// true eventstore: cannot decrypt payload: wrong key or altered data
}

// Append writes at an expected position without reading the stream: a
// command handler that kept the position of the last commit it saw.
func ExampleStore_Append() {
	ctx := context.Background()
	store, _ := eventstore.Wireup().RegisterType("MoneyDeposited", MoneyDeposited{}).Build(ctx)
	defer store.Close(ctx)

	c, _ := store.Append(ctx, "account-1", eventstore.NoStream, eventstore.NewCommitID(),
		eventstore.EventMessage{Body: MoneyDeposited{Amount: 10}})
	pos := c.Position() // keep it with the state it describes
	c, err := store.Append(ctx, "account-1", pos, eventstore.NewCommitID(),
		eventstore.EventMessage{Body: MoneyDeposited{Amount: 20}})
	fmt.Println(c.Position(), err)

	// A writer still holding the old position loses.
	_, err = store.Append(ctx, "account-1", pos, eventstore.NewCommitID(),
		eventstore.EventMessage{Body: MoneyDeposited{Amount: 30}})
	fmt.Println(errors.Is(err, eventstore.ErrConcurrency))

	for c, err := range store.StreamCommits(ctx, "account-1", 0, 0) {
		fmt.Println(c.CommitSequence, c.Events[0].Body, err)
	}
	// Output:
	// {2 2} <nil>
	// true
	// 1 {10} <nil>
	// 2 {20} <nil>
}
