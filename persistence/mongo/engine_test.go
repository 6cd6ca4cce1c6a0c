package mongo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// Runs of tombstones longer than a page, and a bucket whose commits are
// far apart, read whole across pages.
func TestReadAcrossTombstonesAndSparseBuckets(t *testing.T) {
	eachServer(t, testReadAcrossTombstonesAndSparseBuckets)
}

func testReadAcrossTombstonesAndSparseBuckets(t *testing.T) {
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
func TestHead(t *testing.T) { eachServer(t, testHead) }

func testHead(t *testing.T) {
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
func TestStreamsToSnapshotPages(t *testing.T) { eachServer(t, testStreamsToSnapshotPages) }

func testStreamsToSnapshotPages(t *testing.T) {
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

// firstPage reads the first page of seq (of page size 2) and stops, leaving
// its cursor parked; it returns the last checkpoint read.
func firstPage(t *testing.T, seq func(func(persistence.Commit, error) bool)) int64 {
	t.Helper()
	var last int64
	n := 0
	for c, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		last = c.Checkpoint
		if n++; n == 2 {
			break
		}
	}
	return last
}

// A parked cursor opened before a commit of this engine is not trusted to
// end the data, and one opened before a delete of this engine is closed: a
// read that resumes another read's cursor sees what the other could not.
func TestParkedCursorsAreNotStale(t *testing.T) { eachServer(t, testParkedCursorsAreNotStale) }

func testParkedCursorsAreNotStale(t *testing.T) {
	ctx := context.Background()
	e, d := openEngine(t, isolatedURL(t), persistence.WithPageSize(2))
	for i := 1; i <= 2; i++ {
		if _, err := e.Commit(ctx, attempt("b", "kept", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 2; i++ {
		if _, err := e.Commit(ctx, attempt("b", "gone", i)); err != nil {
			t.Fatal(err)
		}
	}
	p := firstPage(t, e.ReadAll(ctx, 0))
	c, err := e.Commit(ctx, attempt("b", "kept", 3))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readAll(t, e, p), []int64{p + 1, p + 2, c.Checkpoint}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ReadAll(%d) after a commit = %v, want %v", p, got, want)
	}
	p = firstPage(t, e.ReadAll(ctx, 0))
	if err := e.DeleteStream(ctx, "b", "gone"); err != nil {
		t.Fatal(err)
	}
	if got, want := readAll(t, e, p), []int64{c.Checkpoint}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ReadAll(%d) after a delete = %v, want %v", p, got, want)
	}
	if n := parkedCount(d); n != 0 {
		t.Errorf("%d cursors parked after complete reads", n)
	}
}

// Parked cursors are closed when they stay unused.
func TestParkedCursorsExpire(t *testing.T) {
	// Set for both servers' subtests, which run in parallel, and restored
	// after them.
	old := parkIdle
	t.Cleanup(func() { parkIdle = old })
	parkIdle = 50 * time.Millisecond
	eachServer(t, testParkedCursorsExpire)
}

func testParkedCursorsExpire(t *testing.T) {
	ctx := context.Background()
	e, d := openEngine(t, isolatedURL(t), persistence.WithPageSize(2))
	for i := 1; i <= 3; i++ {
		if _, err := e.Commit(ctx, attempt("b", "s", i)); err != nil {
			t.Fatal(err)
		}
	}
	firstPage(t, e.ReadStream(ctx, "b", "s", 0, 0))
	firstPage(t, e.ReadAll(ctx, 0))
	if n := parkedCount(d); n != 2 {
		t.Fatalf("%d cursors parked, want 2", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for parkedCount(d) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := parkedCount(d); n != 0 {
		t.Fatalf("%d cursors still parked after %v", n, parkIdle)
	}
	// The read continues with a new query.
	n := 0
	for _, err := range e.ReadStream(ctx, "b", "s", 0, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("read %d commits", n)
	}
}

func parkedCount(d *engine) int {
	return d.parked.Len()
}
