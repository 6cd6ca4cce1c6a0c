package mysql

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/goeventstore/eventstore"
)

// A commit whose stored payload was damaged in the table (garbage, or
// emptied) is a poison commit for the store: ErrCorrupt with its
// coordinates, and a reader of Commits goes on from its checkpoint.
func TestCorruptPayloadInTheTable(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		s := eventstore.New(e, eventstore.Options{})
		var commits []*eventstore.Commit
		for i, id := range []string{"a", "garbage", "b", "emptied", "c"} {
			st, err := s.CreateStream(id)
			if err != nil {
				t.Fatal(err)
			}
			st.Add(eventstore.EventMessage{Body: fmt.Sprint(i)})
			c, err := st.CommitChanges(ctx, eventstore.NewCommitID())
			if err != nil {
				t.Fatal(err)
			}
			commits = append(commits, c)
		}
		db := poolOf(t, e)
		for _, u := range []struct {
			c       *eventstore.Commit
			payload []byte
		}{{commits[1], []byte("\x00not json")}, {commits[3], []byte{}}} {
			if _, err := db.ExecContext(ctx, "UPDATE eventstore_commits SET payload = ? WHERE checkpoint = ?", u.payload, u.c.Checkpoint); err != nil {
				t.Fatal(err)
			}
		}

		after := int64(0)
		var read []any
		var corrupt []*eventstore.CorruptCommitError
		for {
			var ce *eventstore.CorruptCommitError
			for c, err := range s.Commits(ctx, after) {
				if errors.As(err, &ce) {
					corrupt = append(corrupt, ce)
					after = ce.Checkpoint
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				read = append(read, c.Events[0].Body)
				after = c.Checkpoint
			}
			if ce == nil {
				break
			}
		}
		if fmt.Sprint(read) != "[0 2 4]" || len(corrupt) != 2 {
			t.Fatalf("read %v, corrupt %v", read, corrupt)
		}
		for i, want := range []*eventstore.Commit{commits[1], commits[3]} {
			ce := corrupt[i]
			if !errors.Is(ce, eventstore.ErrCorrupt) || ce.StreamID != want.StreamID || ce.BucketID != want.BucketID ||
				ce.CommitID != want.CommitID || ce.Checkpoint != want.Checkpoint || ce.CommitSequence != 1 {
				t.Fatalf("corrupt commit %+v, want the coordinates of %+v", ce, want.CommitAttempt)
			}
		}
		if _, err := s.OpenStream(ctx, "garbage", 0, 0); !errors.Is(err, eventstore.ErrCorrupt) {
			t.Fatalf("OpenStream: %v", err)
		}
	})
}
