package azuretables

import (
	"slices"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// checkpoints returns the checkpoints of cs.
func checkpoints(cs []persistence.Commit) []int64 {
	var out []int64
	for _, c := range cs {
		out = append(out, c.Checkpoint)
	}
	return out
}

// readBucket is readAll for one bucket.
func readBucket(t *testing.T, e *persistence.Engine, bucket string, after int64) []persistence.Commit {
	t.Helper()
	var out []persistence.Commit
	for c, err := range e.ReadBucket(t.Context(), bucket, after) {
		if err != nil {
			t.Fatalf("ReadBucket: %v", err)
		}
		out = append(out, c)
	}
	return out
}

// lane makes the next log batch of d's appender go to slot n, as after a
// jump into a lane of its own (the appender is idle: its loop reads the
// fields after the next intent reaches it).
func lane(d *engine, n int64) { d.log.next, d.log.dense = n, false }

// TestReaderClosesHole: engine B writes in a lane at slot 4 while engine
// A's next slot is 2, leaving a hole at 2 and 3. The dispatch watermark
// does not pass the young hole; a reader (of every bucket, or of one)
// waits resolve_after, then closes the hole with void rows and returns
// slots 1 and 4. A's next commit, late, meets the void row (409) and
// lands above slot 4; readers see it once, after 4.
func TestReaderClosesHole(t *testing.T) {
	ctx := t.Context()
	url := isolatedURL(t)
	const grace = time.Second
	a, _ := openWith(t, url, newGuard(t, nil), 0)
	b, bd := openWith(t, url, newGuard(t, nil), 0)
	_, patient := openWith(t, url, newGuard(t, nil), 0, WithResolveAfter(time.Hour))
	if _, err := a.Commit(ctx, attempt("x", "a", 1)); err != nil {
		t.Fatal(err)
	}
	lane(bd, 4)
	cb, err := b.Commit(ctx, attempt("y", "b", 1))
	if err != nil {
		t.Fatal(err)
	}
	if cb.Checkpoint != 4 {
		t.Fatalf("B's commit in its lane got checkpoint %d, want 4", cb.Checkpoint)
	}
	if m, err := patient.denseTo(ctx, 0, 4); err != nil || m != 1 {
		t.Errorf("denseTo(0, 4) with a young hole at 2 and 3 = %d, %v; want 1 (the dispatch watermark stops below the hole)", m, err)
	}

	reader := instances(t, url, 1, WithResolveAfter(grace))[0]
	start := time.Now()
	if got := checkpoints(readBucket(t, reader, "y", 0)); !slices.Equal(got, []int64{4}) {
		t.Errorf("ReadBucket(y) over the hole: checkpoints %v, want [4]", got)
	}
	if d := time.Since(start); d < grace/2 {
		t.Errorf("ReadBucket passed the hole after %v, before resolve_after (%v) measured from slot 4", d, grace)
	}
	if got := checkpoints(readAll(t, reader, 0)); !slices.Equal(got, []int64{1, 4}) {
		t.Errorf("ReadAll over the closed hole: checkpoints %v, want [1 4]", got)
	}
	for _, n := range []int64{2, 3} {
		r, found, err := patient.get(ctx, logPK, slotRK(n))
		if err != nil || !found || !r.X {
			t.Errorf("slot %d after the reader passed it: found %v, tombstone %v, %v; want a void row", n, found, found && r.X, err)
		}
	}
	if m, err := patient.denseTo(ctx, 0, 4); err != nil || m != 4 {
		t.Errorf("denseTo(0, 4) after the hole was closed = %d, %v; want 4", m, err)
	}

	late, err := a.Commit(ctx, attempt("x", "a", 2))
	if err != nil {
		t.Fatal(err)
	}
	if late.Checkpoint <= 4 {
		t.Errorf("the late writer's commit got checkpoint %d, want above 4 (its slot 2 was voided)", late.Checkpoint)
	}
	if got := checkpoints(readAll(t, reader, 4)); !slices.Equal(got, []int64{late.Checkpoint}) {
		t.Errorf("ReadAll after 4: checkpoints %v, want [%d]", got, late.Checkpoint)
	}
	if got := checkpoints(readBucket(t, reader, "x", 0)); !slices.Equal(got, []int64{1, late.Checkpoint}) {
		t.Errorf("ReadBucket(x): checkpoints %v, want [1 %d]", got, late.Checkpoint)
	}
}

// TestReaderWaitsForHole: a reader that meets a young hole waits for it
// rather than pass it: the writer whose lane it is fills it meanwhile,
// and the reader returns its commits, in checkpoint order, before the one
// above the hole.
func TestReaderWaitsForHole(t *testing.T) {
	ctx := t.Context()
	url := isolatedURL(t)
	a, _ := openWith(t, url, newGuard(t, nil), 0)
	b, bd := openWith(t, url, newGuard(t, nil), 0)
	if _, err := a.Commit(ctx, attempt("x", "a", 1)); err != nil {
		t.Fatal(err)
	}
	lane(bd, 4)
	if _, err := b.Commit(ctx, attempt("x", "b", 1)); err != nil {
		t.Fatal(err)
	}
	reader := instances(t, url, 1, WithResolveAfter(time.Minute))[0]
	got := make(chan []persistence.Commit, 1)
	go func() {
		var out []persistence.Commit
		for c, err := range reader.ReadAll(ctx, 0) {
			if err != nil {
				t.Errorf("ReadAll: %v", err)
				break
			}
			out = append(out, c)
		}
		got <- out
	}()
	time.Sleep(300 * time.Millisecond) // the reader waits at slot 2
	for i := 2; i <= 3; i++ {
		c, err := a.Commit(ctx, attempt("x", "a", i))
		if err != nil {
			t.Fatal(err)
		}
		if c.Checkpoint != int64(i) {
			t.Errorf("commit %d in the hole got checkpoint %d, want %d", i, c.Checkpoint, i)
		}
	}
	if cs := checkpoints(<-got); !slices.Equal(cs, []int64{1, 2, 3, 4}) {
		t.Errorf("ReadAll while the hole filled: checkpoints %v, want [1 2 3 4]", cs)
	}
}
