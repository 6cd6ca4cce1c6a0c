package azuretables

import (
	"testing"
)

// TestTailHint: log batches raise the !tail hint only every tailEvery
// slots, so an engine that must find the end of the log (a fresh one, or
// one whose slot another engine took) reads the hint and the keys above
// it. Engine A writes past a hint; a fresh engine B then gets the next
// slot, and A, whose next slot B took, finds the end and goes on after it:
// the log stays dense and Head names the last slot. Once the commits above
// the first are deleted, Head walks back from the hint to it.
func TestTailHint(t *testing.T) {
	ctx := t.Context()
	url := isolatedURL(t)
	es := instances(t, url, 2)
	a, b := es[0], es[1]
	const n = tailEvery + 6
	if _, err := a.Commit(ctx, attempt("b", "keep", 1)); err != nil {
		t.Fatal(err)
	}
	for i := range n - 1 {
		if _, err := a.Commit(ctx, attempt("b", "a", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	_, d := openWith(t, url, newGuard(t, nil), 0)
	hint, err := d.tailHint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hint != tailEvery {
		t.Errorf("!tail hint after %d commits = %d, want %d", n, hint, tailEvery)
	}
	if tail, err := d.readTail(ctx); err != nil || tail != n {
		t.Errorf("readTail = %d, %v; want %d", tail, err, n)
	}
	cb, err := b.Commit(ctx, attempt("b", "b", 1))
	if err != nil {
		t.Fatal(err)
	}
	if cb.Checkpoint != n+1 {
		t.Errorf("a fresh engine's commit got checkpoint %d, want %d", cb.Checkpoint, n+1)
	}
	ca, err := a.Commit(ctx, attempt("b", "a", n))
	if err != nil {
		t.Fatal(err)
	}
	if ca.Checkpoint != n+2 {
		t.Errorf("the engine whose slot was taken got checkpoint %d, want %d", ca.Checkpoint, n+2)
	}
	all := readAll(t, b, 0)
	for i, c := range all {
		if c.Checkpoint != int64(i+1) {
			t.Fatalf("ReadAll: commit %d has checkpoint %d: the log is not dense", i, c.Checkpoint)
		}
	}
	if len(all) != n+2 {
		t.Errorf("ReadAll: %d commits, want %d", len(all), n+2)
	}
	if h, err := b.Head(ctx); err != nil || h != n+2 {
		t.Errorf("Head = %d, %v; want %d", h, err, n+2)
	}
	for _, s := range []string{"a", "b"} {
		if err := b.DeleteStream(ctx, "b", s); err != nil {
			t.Fatal(err)
		}
	}
	if h, err := a.Head(ctx); err != nil || h != 1 {
		t.Errorf("Head after the commits above slot 1 were deleted = %d, %v; want 1", h, err)
	}
}
