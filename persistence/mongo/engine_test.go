package mongo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/goeventstore/eventstore/persistence"
)

// Runs of tombstones longer than a page, and a bucket whose commits are
// far apart, read whole across pages.
func TestReadAcrossTombstonesAndSparseBuckets(t *testing.T) {
	ctx := context.Background()
	e, _ := openEngine(t, isolatedURL(t), persistence.WithPageSize(2))
	var kept, rare []int64
	for i := 1; i <= 12; i++ {
		if _, err := e.Commit(ctx, attempt("a", "gone", i)); err != nil {
			t.Fatal(err)
		}
		if i%6 == 0 {
			c, err := e.Commit(ctx, attempt("a", "kept", i/6))
			if err != nil {
				t.Fatal(err)
			}
			kept = append(kept, c.Checkpoint)
		}
	}
	c, err := e.Commit(ctx, attempt("rare", "s", 1))
	if err != nil {
		t.Fatal(err)
	}
	rare = append(rare, c.Checkpoint)
	if err := e.DeleteStream(ctx, "a", "gone"); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, e, 0); fmt.Sprint(got) != fmt.Sprint(append(slices.Clone(kept), rare...)) {
		t.Errorf("ReadAll = %v, want %v then %v", got, kept, rare)
	}
	for bucket, want := range map[string][]int64{"a": kept, "rare": rare} {
		var got []int64
		for c, err := range e.ReadBucket(ctx, bucket, 0) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, c.Checkpoint)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ReadBucket(%q) = %v, want %v", bucket, got, want)
		}
	}
}

// Head is the greatest checkpoint of a commit, tombstones aside, and Purge
// never lets a checkpoint be handed out again.
func TestHead(t *testing.T) {
	ctx := context.Background()
	e, _ := openEngine(t, isolatedURL(t))
	head := func() int64 {
		t.Helper()
		h, err := e.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if h := head(); h != 0 {
		t.Fatalf("Head of an empty store = %d", h)
	}
	c1, err := e.Commit(ctx, attempt("b", "s1", 1))
	if err != nil {
		t.Fatal(err)
	}
	c2, err := e.Commit(ctx, attempt("b", "s2", 1))
	if err != nil {
		t.Fatal(err)
	}
	if h := head(); h != c2.Checkpoint {
		t.Fatalf("Head = %d, want %d", h, c2.Checkpoint)
	}
	if err := e.DeleteStream(ctx, "b", "s2"); err != nil {
		t.Fatal(err)
	}
	if h := head(); h != c1.Checkpoint {
		t.Fatalf("Head after deleting the last stream = %d, want %d", h, c1.Checkpoint)
	}
	if err := e.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if h := head(); h != 0 {
		t.Fatalf("Head after Purge = %d", h)
	}
	c3, err := e.Commit(ctx, attempt("b", "s1", 1))
	if err != nil {
		t.Fatal(err)
	}
	if c3.Checkpoint <= c2.Checkpoint || head() != c3.Checkpoint {
		t.Fatalf("commit after Purge got checkpoint %d (before: %d), Head %d", c3.Checkpoint, c2.Checkpoint, head())
	}
}

// StreamsToSnapshot pages through the streams (one page per PageSize
// streams) and yields each qualifying head once.
func TestStreamsToSnapshotPages(t *testing.T) {
	ctx := context.Background()
	e, _ := openEngine(t, isolatedURL(t), persistence.WithPageSize(2))
	want := map[string]persistence.StreamHead{}
	for i := 1; i <= 7; i++ {
		stream := fmt.Sprint("s", i)
		for seq := 1; seq <= i; seq++ {
			if _, err := e.Commit(ctx, attempt("b", stream, seq)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Commit(ctx, attempt("other", stream, 1)); err != nil {
			t.Fatal(err)
		}
		snap := 0
		if i%2 == 0 {
			snap = i / 2
			if err := e.AddSnapshot(ctx, persistence.Snapshot{BucketID: "b", StreamID: stream, StreamRevision: snap, Payload: []byte("{}")}); err != nil {
				t.Fatal(err)
			}
		}
		if i-snap >= 3 {
			want[stream] = persistence.StreamHead{BucketID: "b", StreamID: stream, HeadRevision: i, SnapshotRevision: snap}
		}
	}
	got := map[string]persistence.StreamHead{}
	for h, err := range e.StreamsToSnapshot(ctx, "b", 3) {
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := got[h.StreamID]; dup {
			t.Fatalf("stream %s yielded twice", h.StreamID)
		}
		got[h.StreamID] = h
	}
	if !maps.Equal(got, want) {
		t.Errorf("StreamsToSnapshot = %v, want %v", got, want)
	}
}
