package azuretables

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestRequestsPerCommit counts what commits cost in requests (which Azure
// bills), with the guard under the SDK: one writer after its first commit
// sends its log batch (carrying the previous commit's decision) and its
// stream batch, two requests of 2 and 4 operations (what Azurite spends
// its time on: a 3 and a 5 before); sixteen writers share log batches.
func TestRequestsPerCommit(t *testing.T) {
	g := newGuard(t, nil)
	e, _ := openWith(t, isolatedURL(t), g, 0)
	ctx := t.Context()
	if _, err := e.Commit(ctx, attempt("b", "warm", 1)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * markDelay)
	const n = 40
	r0, _ := g.counts()
	o0 := g.operations()
	for i := range n {
		if _, err := e.Commit(ctx, attempt("b", "one", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	r1, _ := g.counts()
	one := float64(r1-r0) / n
	ops := float64(g.operations()-o0) / n
	t.Logf("one writer: %.2f requests, %.2f batch operations per commit", one, ops)
	if one > 2.1 {
		t.Errorf("one writer: %.2f requests per commit, want 2 (a log batch and a stream batch)", one)
	}
	if ops > 6.1 {
		t.Errorf("one writer: %.2f batch operations per commit, want 6 (log row and the previous decision; commit, commit-ID, decision and head rows) and a !tail hint every 64 slots", ops)
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				if _, err := e.Commit(ctx, attempt("b", fmt.Sprint("w", w), i+1)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	r2, _ := g.counts()
	sixteen := float64(r2-r1) / 80
	t.Logf("16 writers: %.2f requests per commit", sixteen)
	if sixteen >= one {
		t.Errorf("16 writers: %.2f requests per commit, want fewer than one writer's %.2f (shared log batches)", sixteen, one)
	}
}
