// Quickstart: a first run of the event store, in memory, with nothing to
// install. It commits events, dispatches them, resolves a concurrency
// conflict, shows a retried commit being ignored, and reads everything back.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/goeventstore/eventstore"
)

// AccountOpened is the first event of an account.
type AccountOpened struct {
	Owner string // who owns the account
}

// MoneyDeposited records money paid in.
type MoneyDeposited struct {
	Amount int // how much
}

// MoneyWithdrawn records money taken out.
type MoneyWithdrawn struct {
	Amount int // how much
}

func main() {
	ctx := context.Background()

	store, err := eventstore.Wireup().
		UsingInMemory().
		RegisterType("AccountOpened", AccountOpened{}).
		RegisterType("MoneyDeposited", MoneyDeposited{}).
		RegisterType("MoneyWithdrawn", MoneyWithdrawn{}).
		// Synchronous dispatch keeps this output in order: each commit is
		// published before CommitChanges returns. Real programs often prefer
		// UsingAsyncDispatch(), which publishes from a queue in the background.
		UsingSyncDispatch().
		DispatchTo(func(ctx context.Context, c eventstore.Commit) error {
			for i, e := range c.Events {
				fmt.Printf("    -> dispatched %s event %d: %T%+v\n", c.StreamID, c.FirstRevision()+i, e.Body, e.Body)
			}
			return nil
		}).
		Build(ctx)
	if err != nil {
		log.Fatal(err)
	}

	step("1. Open an account: one commit with two events")
	account, err := store.CreateStream("account-ann")
	check(err)
	account.Add(eventstore.EventMessage{Body: AccountOpened{Owner: "Ann"}})
	account.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 100}})
	c, err := account.CommitChanges(ctx, eventstore.NewCommitID())
	check(err)
	fmt.Printf("  stored commit %d of stream %q: revision %d, checkpoint %d\n",
		c.CommitSequence, c.StreamID, c.StreamRevision, c.Checkpoint)

	step("2. Two tellers load the account at the same time")
	teller1, err := store.OpenStream(ctx, "account-ann", 0, 0)
	check(err)
	teller2, err := store.OpenStream(ctx, "account-ann", 0, 0)
	check(err)
	fmt.Printf("  both see revision %d, balance %d\n", teller1.StreamRevision(), balance(teller1))

	teller1.Add(eventstore.EventMessage{Body: MoneyWithdrawn{Amount: 70}})
	_, err = teller1.CommitChanges(ctx, eventstore.NewCommitID())
	check(err)
	fmt.Println("  teller 1 withdrew 70: committed")

	teller2.Add(eventstore.EventMessage{Body: MoneyWithdrawn{Amount: 50}})
	_, err = teller2.CommitChanges(ctx, eventstore.NewCommitID())
	if errors.Is(err, eventstore.ErrConcurrency) {
		fmt.Println("  teller 2 tried to withdraw 50: conflict, someone else committed first")
		fmt.Printf("  teller 2's stream refreshed itself: revision %d, balance now %d\n",
			teller2.StreamRevision(), balance(teller2))
		if balance(teller2) < 50 {
			fmt.Println("  not enough money left: teller 2 drops the withdrawal and deposits 20 instead")
			teller2.ClearChanges()
			teller2.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 20}})
		}
		_, err = teller2.CommitChanges(ctx, eventstore.NewCommitID())
		check(err)
		fmt.Println("  teller 2 retried: committed")
	} else {
		check(err)
	}

	step("3. A retried command with the same commit ID is stored once")
	commandID := eventstore.NewCommitID()
	for attempt := 1; attempt <= 2; attempt++ {
		s, err := store.OpenStream(ctx, "account-ann", 0, 0)
		check(err)
		s.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 5}})
		_, err = s.CommitChanges(ctx, commandID)
		switch {
		case err == nil:
			fmt.Printf("  attempt %d: committed\n", attempt)
		case errors.Is(err, eventstore.ErrDuplicateCommit):
			fmt.Printf("  attempt %d: already stored, ignored (ErrDuplicateCommit)\n", attempt)
		default:
			check(err)
		}
	}

	step("4. Read everything back, from checkpoint 0")
	for c, err := range store.Commits(ctx, 0) {
		check(err)
		fmt.Printf("  checkpoint %d: %s commit %d, %d event(s)\n", c.Checkpoint, c.StreamID, c.CommitSequence, len(c.Events))
	}
	final, err := store.OpenStream(ctx, "account-ann", 0, 0)
	check(err)
	fmt.Printf("  account-ann: revision %d, balance %d\n", final.StreamRevision(), balance(final))

	step("5. Close the store (with async dispatch, Close first delivers what is queued)")
	check(store.Close(ctx))
	fmt.Println("  done. Next: keep the events in MySQL or MongoDB with UsingMySQL(dsn) or UsingMongo(uri), and a blank import of the engine package.")
}

func balance(s *eventstore.Stream) int {
	total := 0
	for _, e := range s.CommittedEvents() {
		switch b := e.Body.(type) {
		case MoneyDeposited:
			total += b.Amount
		case MoneyWithdrawn:
			total -= b.Amount
		}
	}
	return total
}

func step(s string) { fmt.Println("\n" + s) }

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
