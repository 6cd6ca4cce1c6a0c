package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAsyncOrderPerKey schedules interleaved keys from several goroutines
// into several workers, with random failures forcing retries, and checks that
// each key's items are dispatched exactly once each, in scheduling order.
func TestAsyncOrderPerKey(t *testing.T) {
	const (
		producers    = 8
		keysPerProd  = 8
		itemsPerKey  = 200
		workers      = 4
		failOneInTen = 10
	)
	r := newRecorder(t)
	var inFlight, maxInFlight atomic.Int32
	d := Func[item](func(_ context.Context, it item) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		if rand.IntN(failOneInTen) == 0 {
			return errBoom
		}
		r.success(it)
		return nil
	})
	o := r.options()
	o.Workers = workers
	o.QueueSize = 16 // small: producers block and wake often
	o.MaxAttempts = 100
	a := NewAsync(d, o)

	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for seq := range itemsPerKey {
				for k := range keysPerProd {
					it := item{fmt.Sprintf("p%d-k%d", p, k), seq}
					if err := a.Schedule(context.Background(), it); err != nil {
						t.Errorf("Schedule(%v): %v", it, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	closeOK(t, a)

	if len(r.dead) != 0 {
		t.Fatalf("%d dead letters", len(r.dead))
	}
	if len(r.dispatched) != producers*keysPerProd {
		t.Fatalf("%d keys dispatched, want %d", len(r.dispatched), producers*keysPerProd)
	}
	for key, seqs := range r.dispatched {
		if len(seqs) != itemsPerKey {
			t.Errorf("key %s: %d items dispatched, want %d", key, len(seqs), itemsPerKey)
			continue
		}
		for i, s := range seqs {
			if s != i {
				t.Errorf("key %s: dispatch order %v... out of order at %d", key, seqs[:i+1], i)
				break
			}
		}
	}
	if n := r.markedCount(); n != producers*keysPerProd*itemsPerKey {
		t.Errorf("%d items marked, want %d", n, producers*keysPerProd*itemsPerKey)
	}
	// Sharding must actually spread keys: with 64 keys over 4 workers, all
	// on one worker is (1/4)^63 unlikely.
	used := map[uint64]bool{}
	for key := range r.dispatched {
		used[hashShard(a, key)] = true
	}
	if len(used) < 2 {
		t.Errorf("all keys went to %d worker(s)", len(used))
	}
	t.Logf("max concurrent Dispatch calls: %d", maxInFlight.Load())
}

func hashShard(a *Async[item], key string) uint64 { return shardOf(a.seed, key, len(a.queues)) }

// TestAsyncScheduleNeverLosesAcceptedItems races Schedule and TrySchedule
// calls against Close: every item they accepted must be dispatched by the
// time Close returns nil, every other Schedule must have failed with
// ErrClosed, and TrySchedule accepts nothing once Close has returned.
func TestAsyncScheduleNeverLosesAcceptedItems(t *testing.T) {
	for round := range 20 {
		r := newRecorder(t)
		d := Func[item](func(_ context.Context, it item) error { r.success(it); return nil })
		o := r.options()
		o.Workers = 3
		o.QueueSize = 8
		a := NewAsync(d, o)
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for p := range 6 {
			wg.Go(func() {
				for seq := 0; ; seq++ {
					it := item{fmt.Sprint("p", p), seq}
					if p%2 == 1 && a.TrySchedule(it) { // as the store does: try, then wait
						accepted.Add(1)
						continue
					}
					err := a.Schedule(context.Background(), it)
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("Schedule: %v", err)
						return
					}
					accepted.Add(1)
				}
			})
		}
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		closeOK(t, a)
		wg.Wait()
		if a.TrySchedule(item{"late", 0}) {
			t.Fatalf("round %d: TrySchedule accepted an item after Close", round)
		}
		if got, want := int64(r.markedCount()), accepted.Load(); got != want {
			t.Fatalf("round %d: %d items accepted by Schedule, %d dispatched and marked", round, want, got)
		}
	}
}

func TestAsyncScheduleBlocksOnFullQueue(t *testing.T) {
	release := make(chan struct{})
	started := make(chan item, 10)
	r := newRecorder(t)
	d := Func[item](func(_ context.Context, it item) error {
		started <- it
		<-release
		r.success(it)
		return nil
	})
	o := r.options()
	o.QueueSize = 1
	a := NewAsync(d, o)

	ctx := context.Background()
	if err := a.Schedule(ctx, item{"k", 1}); err != nil { // taken by the worker, which blocks
		t.Fatal(err)
	}
	<-started
	if err := a.Schedule(ctx, item{"k", 2}); err != nil { // fills the queue
		t.Fatal(err)
	}

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := a.Schedule(short, item{"k", 3}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Schedule on a full queue = %v, want context.DeadlineExceeded", err)
	}

	// A Schedule blocked on the full queue is released by Close with ErrClosed.
	blocked := make(chan error, 1)
	go func() { blocked <- a.Schedule(ctx, item{"k", 4}) }()
	select {
	case err := <-blocked:
		t.Fatalf("Schedule on a full queue returned %v without waiting", err)
	case <-time.After(20 * time.Millisecond):
	}
	closed := make(chan error, 1)
	go func() { closed <- a.Close(ctx) }()
	if err := <-blocked; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Schedule after Close = %v, want ErrClosed", err)
	}
	close(release) // Close now drains items 1 and 2
	if err := <-closed; err != nil {
		t.Fatalf("Close = %v", err)
	}
	if got := r.dispatched["k"]; len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("dispatched %v, want [1 2]", got)
	}
}

func TestAsyncCloseDrainsWithinDeadline(t *testing.T) {
	r := newRecorder(t)
	var fails atomic.Int32
	d := Func[item](func(_ context.Context, it item) error {
		time.Sleep(100 * time.Microsecond)
		if it.Seq%10 == 0 && fails.Add(1)%2 == 1 { // some items need a retry
			return errBoom
		}
		r.success(it)
		return nil
	})
	o := r.options()
	o.Workers = 2
	a := NewAsync(d, o)
	const n = 200
	for i := range n {
		if err := a.Schedule(context.Background(), item{fmt.Sprint("k", i%7), i}); err != nil {
			t.Fatal(err)
		}
	}
	closeOK(t, a) // everything queued at Close is dispatched before it returns
	if got := r.markedCount(); got != n {
		t.Errorf("after Close, %d of %d items dispatched and marked", got, n)
	}
}

func TestAsyncCloseGivesUpAtDeadline(t *testing.T) {
	t.Run("retrying", func(t *testing.T) {
		r := newRecorder(t)
		var calls atomic.Int32
		d := Func[item](func(context.Context, item) error { calls.Add(1); return errBoom })
		o := r.options()
		o.InitialBackoff = time.Hour // the worker sits in a retry wait
		o.MaxBackoff = time.Hour
		a := NewAsync(d, o)
		a.c.wait.jitter = func(n int64) int64 { return n }
		for i := range 5 {
			if err := a.Schedule(context.Background(), item{"k", i}); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		if err := a.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close = %v, want context.DeadlineExceeded", err)
		}
		// The worker must stop retrying: a later Close sees it gone (it
		// would otherwise wait an hour) and still reports the failed drain.
		later, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel2()
		if err := a.Close(later); !errors.Is(err, errNotDrained) {
			t.Fatalf("second Close = %v, want errNotDrained", err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("Dispatch called %d times, want 1: the other items stay undispatched", n)
		}
		if len(r.dead) != 0 || r.markedCount() != 0 {
			t.Errorf("dead letters %v, marked %d: abandoned items must be neither", r.dead, r.markedCount())
		}
	})
	t.Run("stuck dispatch", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		sawCancel := make(chan struct{})
		d := Func[item](func(ctx context.Context, _ item) error {
			<-ctx.Done() // a dispatcher honouring its context...
			close(sawCancel)
			<-release // ...but slow to return
			return ctx.Err()
		})
		a := NewAsync(d, Options[item]{})
		if err := a.Schedule(context.Background(), item{"k", 1}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		if err := a.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close = %v, want context.DeadlineExceeded without waiting for Dispatch", err)
		}
		select {
		case <-sawCancel:
		case <-time.After(10 * time.Second):
			t.Fatal("Dispatch's context was not cancelled when Close gave up")
		}
	})
}
