package eventstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/goeventstore/eventstore"
)

func TestSnapshots(t *testing.T) {
	engines(t, func(t *testing.T, w *eventstore.Builder) {
		ctx := context.Background()
		s := build(t, w.RegisterType("OrderPlaced", OrderPlaced{}))
		st, _ := s.CreateStream("s")
		commit(t, st, "1", "2")
		commit(t, st, "3", "4")
		commit(t, st, "5")

		if _, err := s.LatestSnapshot(ctx, "s", 0); !errors.Is(err, eventstore.ErrSnapshotNotFound) {
			t.Fatalf("no snapshot yet: %v", err)
		}
		// A snapshot inside a commit (revision 3 of commit 3-4).
		if err := s.AddSnapshot(ctx, eventstore.Snapshot{StreamID: "s", StreamRevision: 3, Payload: OrderPlaced{"at3", 3}}); err != nil {
			t.Fatal(err)
		}
		snap, err := s.LatestSnapshot(ctx, "s", 0)
		if err != nil || snap.Payload != (OrderPlaced{"at3", 3}) || snap.BucketID != "default" {
			t.Fatalf("latest: %+v %v", snap, err)
		}
		got, err := s.OpenStreamFromSnapshot(ctx, snap, 0)
		if err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, e := range got.CommittedEvents() {
			bodies = append(bodies, e.Body.(string))
		}
		if strings.Join(bodies, ",") != "4,5" || got.StreamRevision() != 5 || got.CommitSequence() != 3 {
			t.Fatalf("from snapshot: %v at %d/%d", bodies, got.StreamRevision(), got.CommitSequence())
		}
		commit(t, got, "6") // the commit sequence is right: no conflict

		// A snapshot at the head: nothing to replay, revision and sequence right.
		head, _ := s.OpenStream(ctx, "s", 0, 0)
		if err := s.AddSnapshot(ctx, head.Snapshot("head")); err != nil {
			t.Fatal(err)
		}
		snap, _ = s.LatestSnapshot(ctx, "s", 0)
		got, err = s.OpenStreamFromSnapshot(ctx, snap, 0)
		if err != nil || len(got.CommittedEvents()) != 0 || got.StreamRevision() != 6 || got.CommitSequence() != 4 {
			t.Fatalf("snapshot at head: %v events at %d/%d, %v", len(got.CommittedEvents()), got.StreamRevision(), got.CommitSequence(), err)
		}
		// Bounded by maxRevision.
		if snap, _ := s.LatestSnapshot(ctx, "s", 5); snap.StreamRevision != 3 {
			t.Fatalf("latest at or below 5: %d", snap.StreamRevision)
		}
		// A revision the stream does not have.
		err = s.AddSnapshot(ctx, eventstore.Snapshot{StreamID: "s", StreamRevision: 99, Payload: 1.0})
		if !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Fatalf("snapshot past the head: %v", err)
		}
		// Snapshot in another bucket than the method's: refused.
		err = s.Bucket("other").AddSnapshot(ctx, eventstore.Snapshot{BucketID: "default", StreamID: "s", StreamRevision: 1, Payload: 1.0})
		if !errors.Is(err, eventstore.ErrInvalid) {
			t.Fatalf("bucket mismatch: %v", err)
		}
	})
}

func TestStreamsToSnapshot(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	long, _ := s.CreateStream("long")
	commit(t, long, "1", "2", "3", "4", "5")
	short, _ := s.CreateStream("short")
	commit(t, short, "1")
	var heads []eventstore.StreamHead
	for h, err := range s.StreamsToSnapshot(ctx, 3) {
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, h)
	}
	if len(heads) != 1 || heads[0].StreamID != "long" || heads[0].HeadRevision != 5 {
		t.Fatalf("heads %+v", heads)
	}
	for _, err := range s.StreamsToSnapshot(ctx, 0) {
		if !errors.Is(err, eventstore.ErrInvalid) {
			t.Fatalf("threshold 0: %v", err)
		}
	}
}

func TestPayloadTooLarge(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	st, _ := s.CreateStream("big")
	st.Add(eventstore.EventMessage{Body: strings.Repeat("x", 5<<20)})
	_, err := st.CommitChanges(ctx, eventstore.NewCommitID())
	var se *eventstore.StreamError
	if !errors.Is(err, eventstore.ErrInvalid) || !errors.As(err, &se) || se.StreamID != "big" {
		t.Fatalf("got %v", err)
	}
}

func TestCanceledContext(t *testing.T) {
	s := build(t, eventstore.Wireup())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st, _ := s.CreateStream("s")
	st.Add(eventstore.EventMessage{Body: "x"})
	if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if _, err := s.OpenStream(context.Background(), "s", 1, 0); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("written despite cancellation: %v", err)
	}
}
