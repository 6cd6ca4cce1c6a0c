package dispatcher

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAsyncMarksInBatches: with MarkDispatchedBatch, Async marks every
// dispatched item exactly once through it (never through MarkDispatched),
// after its dispatch, at most MaxMarkBatch at a time, and in fewer calls
// than items when items queue up; dead-lettered items are not marked.
func TestAsyncMarksInBatches(t *testing.T) {
	r := newRecorder(t)
	release := make(chan struct{})
	var first sync.Once
	d := Func[item](func(_ context.Context, it item) error {
		first.Do(func() { <-release }) // hold the worker while the queue fills
		if it.Seq%100 == 99 {
			return errBoom // dead-lettered: never marked
		}
		r.success(it)
		return nil
	})
	o := r.options()
	o.MarkDispatched = func(_ context.Context, it item) error {
		t.Errorf("MarkDispatched(%v) called with MarkDispatchedBatch set", it)
		return nil
	}
	var calls, largest atomic.Int32
	o.MarkDispatchedBatch = func(ctx context.Context, items []item) error {
		calls.Add(1)
		if n := int32(len(items)); n > largest.Load() {
			largest.Store(n)
		}
		if len(items) > MaxMarkBatch {
			t.Errorf("a batch of %d items, over MaxMarkBatch", len(items))
		}
		for _, it := range items {
			r.mark(ctx, it)
		}
		return nil
	}
	o.MaxAttempts = 2
	o.QueueSize = 2000
	a := NewAsync(d, o)
	const n = 1000
	for i := range n {
		if err := a.Schedule(context.Background(), item{fmt.Sprint("k", i%7), i}); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	closeOK(t, a)

	if want := n - n/100; r.markedCount() != want {
		t.Fatalf("%d items marked, want %d", r.markedCount(), want)
	}
	for it, c := range r.marked {
		if c != 1 || it.Seq%100 == 99 {
			t.Errorf("%v marked %d times", it, c)
		}
	}
	if len(r.dead) != n/100 {
		t.Errorf("%d dead letters, want %d", len(r.dead), n/100)
	}
	if c := calls.Load(); c > n/10 || largest.Load() != MaxMarkBatch {
		t.Errorf("%d MarkDispatchedBatch calls, the largest %d items: want few, full ones", c, largest.Load())
	}
}

// TestAsyncMarkBatchRetried: a failing MarkDispatchedBatch is retried as
// MarkDispatched is, then given up on (the items stay unmarked, to be
// dispatched again later), and the worker goes on.
func TestAsyncMarkBatchRetried(t *testing.T) {
	r := newRecorder(t)
	d := Func[item](func(_ context.Context, it item) error { r.success(it); return nil })
	o := r.options()
	var calls atomic.Int32
	o.MarkDispatchedBatch = func(ctx context.Context, items []item) error {
		if calls.Add(1) <= markAttempts {
			return errBoom
		}
		for _, it := range items {
			r.mark(ctx, it)
		}
		return nil
	}
	a := NewAsync(d, o)
	if err := a.Schedule(context.Background(), item{"k", 1}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() < markAttempts && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := a.Schedule(context.Background(), item{"k", 2}); err != nil {
		t.Fatal(err)
	}
	closeOK(t, a)
	if c := calls.Load(); c != markAttempts+1 {
		t.Fatalf("%d MarkDispatchedBatch calls, want %d (the first item's, then the second's)", c, markAttempts+1)
	}
	if r.marked[item{"k", 1}] != 0 || r.marked[item{"k", 2}] != 1 {
		t.Fatalf("marked %v: want only the second item", r.marked)
	}
}
