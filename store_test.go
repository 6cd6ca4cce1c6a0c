package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

type OrderPlaced struct {
	OrderID string
	Amount  float64
}

type OrderShipped struct {
	OrderID string
	Carrier string
}

// bytesOnly is the memory engine keeping no in-process values, so that the
// store goes through its serializer as it does with every persisting engine.
func bytesOnly() *persistence.Engine { return memory.New(memory.WithKeepValues(false)) }

// engines runs f against the memory engine as is and keeping bytes only.
func engines(t *testing.T, f func(t *testing.T, w *eventstore.Builder)) {
	t.Run("memory", func(t *testing.T) { f(t, eventstore.Wireup().UsingInMemory()) })
	t.Run("bytes", func(t *testing.T) { f(t, eventstore.Wireup().UsingPersistence(bytesOnly())) })
}

func build(t *testing.T, w *eventstore.Builder) *eventstore.Store {
	t.Helper()
	s, err := w.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func commit(t *testing.T, st *eventstore.Stream, bodies ...any) *eventstore.Commit {
	t.Helper()
	for _, b := range bodies {
		if err := st.Add(eventstore.EventMessage{Body: b}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := st.CommitChanges(context.Background(), eventstore.NewCommitID())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCommitAndOpen(t *testing.T) {
	engines(t, func(t *testing.T, w *eventstore.Builder) {
		ctx := context.Background()
		s := build(t, w.RegisterType("OrderPlaced", OrderPlaced{}))
		st, err := s.CreateStream("order-1")
		if err != nil {
			t.Fatal(err)
		}
		if st.StreamRevision() != 0 || st.CommitSequence() != 0 {
			t.Fatalf("new stream at %d/%d", st.StreamRevision(), st.CommitSequence())
		}
		st.SetHeader("user", "ann")
		st.Add(eventstore.EventMessage{Body: OrderPlaced{"o1", 10}, Headers: map[string]any{"n": 1.0}})
		c, err := st.CommitChanges(ctx, eventstore.NewCommitID())
		if err != nil {
			t.Fatal(err)
		}
		if c.StreamRevision != 1 || c.CommitSequence != 1 || c.Checkpoint <= 0 || c.BucketID != "default" {
			t.Fatalf("commit %+v", c)
		}
		if c.CommitStamp.Location().String() != "UTC" || c.CommitStamp.Nanosecond()%1000 != 0 {
			t.Fatalf("stamp %v not UTC microseconds", c.CommitStamp)
		}
		commit(t, st, map[string]any{"unregistered": "yes"}, "a string")
		if st.StreamRevision() != 3 || st.CommitSequence() != 2 || len(st.UncommittedEvents()) != 0 {
			t.Fatalf("stream at %d/%d", st.StreamRevision(), st.CommitSequence())
		}

		got, err := s.OpenStream(ctx, "order-1", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		ev := got.CommittedEvents()
		want := []eventstore.EventMessage{
			{Body: OrderPlaced{"o1", 10}, Headers: map[string]any{"n": 1.0}},
			{Body: map[string]any{"unregistered": "yes"}},
			{Body: "a string"},
		}
		if !reflect.DeepEqual(ev, want) {
			t.Fatalf("read %#v\nwant %#v", ev, want)
		}
		if got.StreamRevision() != 3 || got.CommitSequence() != 2 || got.CommittedHeaders()["user"] != "ann" {
			t.Fatalf("opened at %d/%d headers %v", got.StreamRevision(), got.CommitSequence(), got.CommittedHeaders())
		}

		// A revision range.
		part, err := s.OpenStream(ctx, "order-1", 2, 2)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(part.CommittedEvents()); n != 1 || part.StreamRevision() != 2 {
			t.Fatalf("range 2..2: %d events, revision %d", n, part.StreamRevision())
		}
	})
}

func TestUnregisteredBodiesComeBackGeneric(t *testing.T) {
	// Without registration a struct comes back as encoding/json's generic form,
	// on every engine.
	engines(t, func(t *testing.T, w *eventstore.Builder) {
		s := build(t, w)
		st, _ := s.CreateStream("s")
		commit(t, st, OrderPlaced{"o1", 10})
		got, err := s.OpenStream(context.Background(), "s", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"OrderID": "o1", "Amount": 10.0}
		if b := got.CommittedEvents()[0].Body; !reflect.DeepEqual(b, want) {
			t.Fatalf("body %#v, want %#v", b, want)
		}
	})
}

func TestOpenStreamNotFound(t *testing.T) {
	s := build(t, eventstore.Wireup())
	ctx := context.Background()
	st, err := s.OpenStream(ctx, "missing", 0, 0)
	if err != nil || st.StreamRevision() != 0 {
		t.Fatalf("open-or-create: %v %v", st, err)
	}
	_, err = s.OpenStream(ctx, "missing", 1, 0)
	if !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("got %v, want ErrStreamNotFound", err)
	}
	var se *eventstore.StreamError
	if !errors.As(err, &se) || se.StreamID != "missing" || se.BucketID != "default" || se.Revision != 1 {
		t.Fatalf("error %v does not name the stream", err)
	}
	if !strings.Contains(err.Error(), `stream "missing"`) || !strings.Contains(err.Error(), "revision 1") {
		t.Fatalf("message %q", err)
	}
}

func TestConcurrencyConflictRefreshes(t *testing.T) {
	engines(t, func(t *testing.T, w *eventstore.Builder) {
		ctx := context.Background()
		s := build(t, w)
		a, _ := s.CreateStream("s")
		commit(t, a, "first")
		b, _ := s.OpenStream(ctx, "s", 0, 0)
		commit(t, a, "a-second")

		b.Add(eventstore.EventMessage{Body: "b-second"})
		_, err := b.CommitChanges(ctx, eventstore.NewCommitID())
		if !errors.Is(err, eventstore.ErrConcurrency) {
			t.Fatalf("got %v, want ErrConcurrency", err)
		}
		if b.StreamRevision() != 2 || b.CommitSequence() != 2 || len(b.CommittedEvents()) != 2 {
			t.Fatalf("not refreshed: %d/%d %v", b.StreamRevision(), b.CommitSequence(), b.CommittedEvents())
		}
		if ev := b.UncommittedEvents(); len(ev) != 1 || ev[0].Body != "b-second" {
			t.Fatalf("uncommitted events lost: %v", ev)
		}
		c, err := b.CommitChanges(ctx, eventstore.NewCommitID())
		if err != nil {
			t.Fatal(err)
		}
		if c.StreamRevision != 3 || c.CommitSequence != 3 {
			t.Fatalf("retry stored at %d/%d", c.StreamRevision, c.CommitSequence)
		}
	})
}

func TestCreateStreamThatExistsConflicts(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	a, _ := s.CreateStream("s")
	commit(t, a, "x")
	b, _ := s.CreateStream("s")
	b.Add(eventstore.EventMessage{Body: "y"})
	if _, err := b.CommitChanges(ctx, eventstore.NewCommitID()); !errors.Is(err, eventstore.ErrConcurrency) {
		t.Fatalf("got %v", err)
	}
	if b.StreamRevision() != 1 {
		t.Fatalf("not refreshed")
	}
}

func TestDuplicateCommit(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	a, _ := s.CreateStream("s")
	id := eventstore.NewCommitID()
	a.Add(eventstore.EventMessage{Body: "x"})
	if _, err := a.CommitChanges(ctx, id); err != nil {
		t.Fatal(err)
	}
	// The same ID again, at the next sequence: a duplicate, not a conflict.
	a.Add(eventstore.EventMessage{Body: "x"})
	_, err := a.CommitChanges(ctx, id)
	if !errors.Is(err, eventstore.ErrDuplicateCommit) || errors.Is(err, eventstore.ErrConcurrency) {
		t.Fatalf("got %v, want ErrDuplicateCommit only", err)
	}
	// From a stale stream (the conflict applies too): still a duplicate.
	b, _ := s.CreateStream("s")
	b.Add(eventstore.EventMessage{Body: "x"})
	if _, err := b.CommitChanges(ctx, id); !errors.Is(err, eventstore.ErrDuplicateCommit) {
		t.Fatalf("got %v, want ErrDuplicateCommit", err)
	}
	got, _ := s.OpenStream(ctx, "s", 0, 0)
	if got.StreamRevision() != 1 {
		t.Fatalf("duplicate was written: revision %d", got.StreamRevision())
	}
}

func TestEmptyCommitIsNoOp(t *testing.T) {
	s := build(t, eventstore.Wireup())
	st, _ := s.CreateStream("s")
	c, err := st.CommitChanges(context.Background(), eventstore.NewCommitID())
	if c != nil || err != nil {
		t.Fatalf("got %v, %v", c, err)
	}
	// Headers alone are not a commit either.
	st.SetHeader("h", "v")
	if c, err := st.CommitChanges(context.Background(), eventstore.UUID{}); c != nil || err != nil {
		t.Fatalf("got %v, %v", c, err)
	}
	for c, err := range s.Commits(context.Background(), 0) {
		t.Fatalf("something was written: %v %v", c, err)
	}
}

func TestClearChanges(t *testing.T) {
	s := build(t, eventstore.Wireup())
	st, _ := s.CreateStream("s")
	st.Add(eventstore.EventMessage{Body: 1.0})
	st.SetHeader("h", 1)
	st.ClearChanges()
	if len(st.UncommittedEvents()) != 0 || len(st.UncommittedHeaders()) != 0 {
		t.Fatal("not cleared")
	}
}

// Issue 420: a stream opened up to a revision inside a commit must not commit
// after it.
func TestPartialStream(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	st, _ := s.CreateStream("s")
	commit(t, st, "1", "2")
	commit(t, st, "3", "4")
	p, err := s.OpenStream(ctx, "s", 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.StreamRevision() != 3 || len(p.CommittedEvents()) != 3 {
		t.Fatalf("partial open at %d with %d events", p.StreamRevision(), len(p.CommittedEvents()))
	}
	p.Add(eventstore.EventMessage{Body: "5"})
	if _, err := p.CommitChanges(ctx, eventstore.NewCommitID()); !errors.Is(err, eventstore.ErrConcurrency) {
		t.Fatalf("got %v, want ErrConcurrency", err)
	}
	if p.StreamRevision() != 4 || len(p.CommittedEvents()) != 4 || p.CommitSequence() != 2 {
		t.Fatalf("after refresh at %d/%d with %d events", p.StreamRevision(), p.CommitSequence(), len(p.CommittedEvents()))
	}
	c, err := p.CommitChanges(ctx, eventstore.NewCommitID())
	if err != nil || c.StreamRevision != 5 || c.CommitSequence != 3 {
		t.Fatalf("retry: %v %v", c, err)
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	long := strings.Repeat("x", persistence.MaxIDLength+1)
	check := func(name string, err error) {
		t.Helper()
		var ve *eventstore.ValidationError
		if !errors.Is(err, eventstore.ErrInvalid) || !errors.As(err, &ve) {
			t.Errorf("%s: got %v, want a validation error", name, err)
		}
	}
	_, err := s.CreateStream("")
	check("empty stream ID", err)
	_, err = s.CreateStream(long)
	check("long stream ID", err)
	_, err = s.Bucket("").CreateStream("s")
	check("empty bucket", err)
	_, err = s.OpenStream(ctx, "s", -1, 0)
	check("negative minRevision", err)
	_, err = s.OpenStream(ctx, "s", 5, 2)
	check("max below min", err)

	st, _ := s.CreateStream("s")
	check("nil body", st.Add(eventstore.EventMessage{}))
	st.Add(eventstore.EventMessage{Body: "ok"})
	_, err = st.CommitChanges(ctx, eventstore.UUID{})
	check("zero commit ID", err)
	st.ClearChanges()
	st.Add(eventstore.EventMessage{Body: make(chan int)})
	_, err = st.CommitChanges(ctx, eventstore.NewCommitID())
	check("unencodable body", err)
	if err != nil && !strings.Contains(err.Error(), `stream "s"`) {
		t.Errorf("message %q does not name the stream", err)
	}
	check("nil snapshot", s.AddSnapshot(ctx, eventstore.Snapshot{StreamID: "s", StreamRevision: 1}))
	check("snapshot revision", s.AddSnapshot(ctx, eventstore.Snapshot{StreamID: "s", Payload: 1}))
	_, err = s.OpenStreamFromSnapshot(ctx, eventstore.Snapshot{StreamID: "s", StreamRevision: -3}, 0)
	check("snapshot open revision", err)
	for c, err := range s.Commits(ctx, 0) {
		t.Fatalf("something was written: %v %v", c, err)
	}
}

func TestBuckets(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	a, _ := s.Bucket("tenant-a").CreateStream("s")
	commit(t, a, "a")
	b, _ := s.Bucket("tenant-b").CreateStream("s")
	commit(t, b, "b1", "b2")
	d, _ := s.CreateStream("s")
	commit(t, d, "d")

	got, _ := s.Bucket("tenant-b").OpenStream(ctx, "s", 0, 0)
	if got.StreamRevision() != 2 || got.BucketID() != "tenant-b" {
		t.Fatalf("tenant-b/s at %d", got.StreamRevision())
	}
	var all, inB []string
	for c, err := range s.Commits(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, c.BucketID)
	}
	for c, err := range s.Bucket("tenant-b").Commits(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		inB = append(inB, c.BucketID)
	}
	if fmt.Sprint(all) != "[tenant-a tenant-b default]" || fmt.Sprint(inB) != "[tenant-b]" {
		t.Fatalf("all %v, bucket %v", all, inB)
	}
	if err := s.Bucket("tenant-a").Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Bucket("tenant-a").OpenStream(ctx, "s", 1, 0); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("purged bucket: %v", err)
	}
	if _, err := s.OpenStream(ctx, "s", 1, 0); err != nil {
		t.Fatalf("other bucket gone: %v", err)
	}
}

func TestCommitsFromCheckpoint(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	st, _ := s.CreateStream("s")
	var cps []int64
	for i := range 5 {
		cps = append(cps, commit(t, st, float64(i)).Checkpoint)
	}
	var got []any
	var last int64
	for c, err := range s.Commits(ctx, cps[1]) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Events[0].Body)
		last = c.Checkpoint
	}
	if fmt.Sprint(got) != "[2 3 4]" || last != cps[4] {
		t.Fatalf("after %d: %v (last %d)", cps[1], got, last)
	}
}

func TestDeleteStreamAndPurge(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	st, _ := s.CreateStream("s")
	commit(t, st, "x")
	if err := s.DeleteStream(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenStream(ctx, "s", 1, 0); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("deleted stream: %v", err)
	}
	st2, _ := s.CreateStream("t")
	commit(t, st2, "y")
	if err := s.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	for c, err := range s.Commits(ctx, 0) {
		t.Fatalf("after purge: %v %v", c, err)
	}
}

func TestClosedStore(t *testing.T) {
	ctx := context.Background()
	s, err := eventstore.Wireup().Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := s.CreateStream("s")
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st.Add(eventstore.EventMessage{Body: "x"})
	if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("commit after close: %v", err)
	}
	if _, err := s.OpenStream(ctx, "s", 0, 0); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("open after close: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestEventsReadAreNotShared(t *testing.T) {
	// Changing a commit read through Commits must not change what is stored.
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	st, _ := s.CreateStream("s")
	commit(t, st, "original")
	for c := range s.Commits(ctx, 0) {
		c.Events[0].Body = "changed"
	}
	for c := range s.Commits(ctx, 0) {
		if c.Events[0].Body != "original" {
			t.Fatalf("stored event changed to %v", c.Events[0].Body)
		}
	}
}

// Writers racing on one stream: each retries after a conflict until it
// wins. Every commit lands exactly once, in a gapless sequence.
func TestConcurrentWritersOneStream(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	const writers, each = 8, 25
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			st, err := s.OpenStream(ctx, "hot", 0, 0)
			if err != nil {
				errs <- err
				return
			}
			for i := range each {
				st.Add(eventstore.EventMessage{Body: fmt.Sprintf("w%d-%d", w, i)})
				for {
					_, err := st.CommitChanges(ctx, eventstore.NewCommitID())
					if err == nil {
						break
					}
					if !errors.Is(err, eventstore.ErrConcurrency) {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.OpenStream(ctx, "hot", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.StreamRevision() != writers*each || st.CommitSequence() != writers*each {
		t.Fatalf("stream at %d/%d, want %d", st.StreamRevision(), st.CommitSequence(), writers*each)
	}
	seen := map[any]bool{}
	for _, e := range st.CommittedEvents() {
		if seen[e.Body] {
			t.Fatalf("%v stored twice", e.Body)
		}
		seen[e.Body] = true
	}
}
