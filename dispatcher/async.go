package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// errNotDrained is what Close returns once an earlier Close gave up.
var errNotDrained = errors.New("dispatcher: an earlier Close gave up before the queue was drained")

// Async is a Scheduler that queues items and dispatches them from background
// workers. Each worker has its own bounded queue (QueueSize/Workers, rounded
// up) and items are sharded among workers by a hash of Key, so that one key
// is always dispatched by the same worker, in order. Dispatch runs with a
// context of the scheduler's own (not Schedule's), cancelled only when Close
// gives up.
type Async[T any] struct {
	c      deliverer[T]
	gate   gate
	seed   maphash.Seed
	queues []*queue[T]

	ctx    context.Context // passed to Dispatch; cancelled when Close gives up
	cancel context.CancelFunc

	closing   chan struct{} // closed by Close: blocked Schedule calls give up
	closeOnce sync.Once
	wg        sync.WaitGroup
	done      chan struct{} // closed when every worker has returned
	gaveUp    atomic.Bool
}

// NewAsync returns an asynchronous scheduler running d, and starts its
// workers; Close stops them. It panics if d is nil or opts are invalid (see
// Options.Validate).
func NewAsync[T any](d Dispatcher[T], opts Options[T]) *Async[T] {
	opts = mustPrepare("NewAsync", d, opts)
	a := &Async[T]{
		c:       newDeliverer(d, opts),
		gate:    newGate(),
		seed:    maphash.MakeSeed(),
		queues:  make([]*queue[T], opts.Workers),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	size := (opts.QueueSize + opts.Workers - 1) / opts.Workers
	a.wg.Add(opts.Workers)
	for i := range a.queues {
		a.queues[i] = newQueue[T](size)
		go a.work(a.queues[i])
	}
	return a
}

// Schedule queues item for dispatch and returns. While the item's queue is
// full it blocks until there is room, ctx is done, or Close is called.
// It fails only in those last two cases (the item then stays undispatched).
func (a *Async[T]) Schedule(ctx context.Context, item T) error {
	if !a.gate.enter() {
		return errScheduleClosed
	}
	err := a.queueOf(item).put(ctx, item, a.closing)
	a.gate.leave()
	return err
}

// TrySchedule queues item if its queue has room, without blocking, and
// reports whether it did. It reports false once Close has returned (and
// may already while Close runs).
func (a *Async[T]) TrySchedule(item T) bool {
	// No gate: tryPut never waits, and a closed queue refuses the item.
	return a.queueOf(item).tryPut(item)
}

// queueOf returns the queue of the worker that dispatches item.
func (a *Async[T]) queueOf(item T) *queue[T] {
	if len(a.queues) == 1 {
		return a.queues[0]
	}
	return a.queues[shardOf(a.seed, a.c.o.Key(item), len(a.queues))]
}

// Close refuses further items and waits until the workers have dispatched
// everything queued, retries and dead letters included. If ctx is done first,
// the workers stop retrying and dispatching (what is left stays undispatched,
// for the store to dispatch at its next start), a Dispatch in progress sees
// its context cancelled, and Close returns an error wrapping ctx.Err()
// without waiting for it.
func (a *Async[T]) Close(ctx context.Context) error {
	a.closeOnce.Do(func() {
		a.gate.shut()
		close(a.closing)
		go a.seal()
	})
	select {
	case <-a.done:
	case <-ctx.Done():
		select {
		case <-a.done:
		default:
			a.gaveUp.Store(true)
			a.cancel()
			return fmt.Errorf("dispatcher: close: queue not drained: %w", ctx.Err())
		}
	}
	if a.gaveUp.Load() {
		return errNotDrained
	}
	return nil
}

// seal closes the queues once no Schedule call is in progress, so that the
// workers finish what is queued and return, then reports done.
func (a *Async[T]) seal() {
	<-a.gate.drained // prompt: blocked calls are released by a.closing
	for _, q := range a.queues {
		q.close()
	}
	a.wg.Wait()
	a.cancel()
	close(a.done)
}

// work dispatches the items of one queue until it is closed and empty, or
// Close gives up. With MarkDispatchedBatch, the items dispatched from one
// take are marked together, MaxMarkBatch at a time.
func (a *Async[T]) work(q *queue[T]) {
	defer a.wg.Done()
	var batch, marks []T
	for {
		var ok bool
		if batch, ok = q.take(batch); !ok {
			return
		}
		for _, item := range batch {
			if a.ctx.Err() != nil {
				return // Close gave up: what is not marked is dispatched again later
			}
			if a.c.o.MarkDispatchedBatch == nil {
				_ = a.c.deliver(a.ctx, nil, item) // an error means Close gave up; logged
				continue
			}
			if dispatched, _ := a.c.attempt(a.ctx, nil, item); dispatched {
				if marks = append(marks, item); len(marks) == MaxMarkBatch {
					a.c.markBatch(a.ctx, marks)
					marks = marks[:0]
				}
			}
		}
		a.c.markBatch(a.ctx, marks)
		clear(marks)
		marks = marks[:0]
	}
}

// shardOf returns the index of the worker queue for key.
func shardOf(seed maphash.Seed, key string, n int) uint64 {
	return maphash.String(seed, key) % uint64(n)
}
