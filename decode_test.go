package eventstore_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
)

// TestDecodeIsWhatCommitsYields decodes each commit read from the engine
// with Store.Decode and wants exactly the commit Store.Commits yields;
// a payload that cannot be decoded, and a closed store, give their errors.
func TestDecodeIsWhatCommitsYields(t *testing.T) {
	var seen []int64
	s := readAheadStore(t, 150, &seen)
	ctx := context.Background()
	var want []eventstore.Commit
	for c, err := range s.Commits(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, c)
	}
	i := 0
	for pc, err := range s.Engine().ReadAll(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		c, keep, err := s.Decode(ctx, pc)
		if err != nil || !keep {
			t.Fatalf("Decode(%d): keep %v, %v", pc.Checkpoint, keep, err)
		}
		if !reflect.DeepEqual(c, want[i]) {
			t.Fatalf("Decode(%d) = %+v, Commits yielded %+v", pc.Checkpoint, c, want[i])
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("decoded %d, Commits yielded %d", i, len(want))
	}

	bad := persistence.Commit{CommitAttempt: persistence.CommitAttempt{BucketID: eventstore.DefaultBucket, StreamID: "x",
		StreamRevision: 1, CommitID: persistence.NewUUID(), CommitSequence: 1, CommitStamp: time.Now(), EventCount: 1,
		Payload: []byte("{")}, Checkpoint: 99}
	var ce *eventstore.CorruptCommitError
	if _, _, err := s.Decode(ctx, bad); !errors.As(err, &ce) || ce.Checkpoint != 99 {
		t.Fatalf("Decode of a broken payload: %v, want a CorruptCommitError for checkpoint 99", err)
	}
	s.Close(ctx)
	if _, _, err := s.Decode(ctx, bad); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Decode on a closed store: %v, want ErrClosed", err)
	}
}
