package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSyncDispatchesBeforeScheduleReturns(t *testing.T) {
	r := newRecorder(t)
	s := NewSync(Func[item](func(_ context.Context, it item) error { r.success(it); return nil }), r.options())
	defer closeOK(t, s)
	for i := range 3 {
		if err := s.Schedule(context.Background(), item{"k", i}); err != nil {
			t.Fatal(err)
		}
		if r.marked[item{"k", i}] != 1 {
			t.Fatalf("item %d not dispatched and marked when Schedule returned", i)
		}
	}
}

// TestSyncOneAtATimePerKey runs many concurrent Schedule calls over a few
// keys and checks that two items of one key are never dispatched at the same
// time, while different keys do run in parallel.
func TestSyncOneAtATimePerKey(t *testing.T) {
	const keys, goroutines, perGoroutine = 4, 16, 50
	var (
		busy      [keys]atomic.Int32
		total     atomic.Int32
		parallel  atomic.Bool
		overlaps  atomic.Int32
		successes atomic.Int32
	)
	d := Func[item](func(_ context.Context, it item) error {
		k := it.Seq % keys
		if busy[k].Add(1) != 1 {
			overlaps.Add(1)
		}
		if total.Add(1) > 1 {
			parallel.Store(true)
		}
		time.Sleep(20 * time.Microsecond)
		total.Add(-1)
		busy[k].Add(-1)
		if it.Seq%7 == 0 && it.Key == "retry" {
			return errBoom // retried while holding the key
		}
		successes.Add(1)
		return nil
	})
	s := NewSync(d, Options[item]{
		Key:            func(it item) string { return fmt.Sprint("k", it.Seq%keys) },
		InitialBackoff: 10 * time.Microsecond,
		MaxAttempts:    2,
	})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				key := ""
				if i%5 == 0 {
					key = "retry"
				}
				if err := s.Schedule(context.Background(), item{key, g*perGoroutine + i}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	closeOK(t, s)
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d dispatches overlapped another of the same key", n)
	}
	if !parallel.Load() {
		t.Error("no two keys were ever dispatched in parallel")
	}
}

// TestSyncRetryHoldsBackLaterItemOfKey: an item being retried blocks a later
// item of its key scheduled meanwhile, so the success order is the
// scheduling order.
func TestSyncRetryHoldsBackLaterItemOfKey(t *testing.T) {
	r := newRecorder(t)
	firstFailed := make(chan struct{})
	var attempts atomic.Int32
	d := Func[item](func(_ context.Context, it item) error {
		if it.Seq == 1 {
			switch attempts.Add(1) {
			case 1:
				close(firstFailed)
				return errBoom
			case 2:
				time.Sleep(5 * time.Millisecond) // give item 2 every chance to overtake
				return errBoom
			}
		}
		r.success(it)
		return nil
	})
	o := r.options()
	o.InitialBackoff = time.Millisecond
	s := NewSync(d, o)
	done := make(chan error, 1)
	go func() { done <- s.Schedule(context.Background(), item{"k", 1}) }()
	<-firstFailed
	if err := s.Schedule(context.Background(), item{"k", 2}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	closeOK(t, s)
	if got := r.dispatched["k"]; len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("dispatch order %v, want [1 2]", got)
	}
}

func TestSyncContextEndsRetries(t *testing.T) {
	r := newRecorder(t)
	d := Func[item](func(context.Context, item) error { return errBoom })
	o := r.options()
	o.InitialBackoff = time.Hour
	o.MaxBackoff = time.Hour
	s := NewSync(d, o)
	s.c.wait.jitter = func(n int64) int64 { return n }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := s.Schedule(ctx, item{"k", 1})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Schedule = %v, want context.DeadlineExceeded", err)
	}
	if len(r.dead) != 0 || r.markedCount() != 0 {
		t.Errorf("interrupted item: dead letters %v, marked %d; want neither", r.dead, r.markedCount())
	}
	closeOK(t, s)
}

func TestSyncCloseWaitsThenGivesUp(t *testing.T) {
	r := newRecorder(t)
	entered := make(chan struct{})
	d := Func[item](func(context.Context, item) error {
		select {
		case <-entered:
		default:
			close(entered)
		}
		return errBoom
	})
	o := r.options()
	o.InitialBackoff = time.Hour
	o.MaxBackoff = time.Hour
	s := NewSync(d, o)
	s.c.wait.jitter = func(n int64) int64 { return n }
	result := make(chan error, 1)
	go func() { result <- s.Schedule(context.Background(), item{"k", 1}) }()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want context.DeadlineExceeded", err)
	}
	select {
	case err := <-result:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Schedule abandoned by Close = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Schedule kept retrying after Close gave up")
	}
	if len(r.dead) != 0 {
		t.Errorf("abandoned item was dead-lettered: %v", r.dead)
	}
	closeOK(t, s) // nothing in flight any more
}
