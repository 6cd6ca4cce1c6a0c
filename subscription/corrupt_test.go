package subscription_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/subscription"
)

// TestCorrupt: a commit the store cannot decode stops Run with the
// *CorruptCommitError after the commits before it were handled; with
// OnCorrupt returning nil the subscription goes past it and hands over the
// commits after it.
func TestCorrupt(t *testing.T) {
	s := memStore(t)
	before := commitN(t, s, "default", "s", 2)
	bad, err := s.Engine().Commit(context.Background(), &persistence.CommitAttempt{
		BucketID: "default", StreamID: "poison", StreamRevision: 1, CommitSequence: 1,
		CommitID: eventstore.NewCommitID(), CommitStamp: time.Now().UTC().Truncate(time.Microsecond),
		EventCount: 1, Payload: []byte("not the serializer's format"),
	})
	if err != nil {
		t.Fatal(err)
	}
	after := commitN(t, s, "default", "s", 1)

	rec := newRecorder()
	sub, _ := subscription.New(s, rec.handle, subscription.Options{Poll: time.Hour})
	err = sub.Run(context.Background(), 0)
	var ce *eventstore.CorruptCommitError
	if !errors.As(err, &ce) || ce.Checkpoint != bad.Checkpoint {
		t.Fatalf("Run = %v, want the *CorruptCommitError of checkpoint %d", err, bad.Checkpoint)
	}
	if got := rec.checkpoints(); !equal(got, checkpointsOf(before)) || sub.Position() != before[1].Checkpoint {
		t.Fatalf("handled %v, position %d; want %v, position %d", got, sub.Position(), checkpointsOf(before), before[1].Checkpoint)
	}

	var quarantined []int64
	rec2 := newRecorder()
	sub2, _ := subscription.New(s, rec2.handle, subscription.Options{Poll: time.Hour,
		OnCorrupt: func(ctx context.Context, err *eventstore.CorruptCommitError) error {
			quarantined = append(quarantined, err.Checkpoint)
			return nil
		}})
	stop := start(t, sub2, sub.Position())
	waitFor(t, "the commit after the corrupt one", func() bool { return sub2.Position() == after[0].Checkpoint })
	stop()
	if got := rec2.checkpoints(); !equal(got, checkpointsOf(after)) || !equal(quarantined, []int64{bad.Checkpoint}) {
		t.Errorf("handled %v, quarantined %v; want %v and [%d]", got, quarantined, checkpointsOf(after), bad.Checkpoint)
	}
}
