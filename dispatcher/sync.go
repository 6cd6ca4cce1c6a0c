package dispatcher

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
)

// syncStripes is the number of key locks of a Sync scheduler: items whose
// keys hash to the same stripe are dispatched one at a time.
const syncStripes = 256

// errScheduleClosed is what Schedule returns after Close.
var errScheduleClosed = fmt.Errorf("%w: item not scheduled", ErrClosed)

// Sync is a Scheduler that dispatches in the caller's goroutine: Schedule
// returns once the item has been dispatched and marked, or dead-lettered.
// Items of one key are dispatched one at a time, in the order their Schedule
// calls arrived; items of other keys proceed in parallel (keys share 256
// locks by hash, so an unrelated key may occasionally wait too).
type Sync[T any] struct {
	c       deliverer[T]
	gate    gate
	seed    maphash.Seed
	stripes []chan struct{} // one-slot semaphores: FIFO hand-over to waiters

	stop     chan struct{} // closed when a Close gives up: stop retrying
	stopOnce sync.Once
}

// NewSync returns a synchronous scheduler running d. It panics if d is nil or
// opts are invalid (see Options.Validate).
func NewSync[T any](d Dispatcher[T], opts Options[T]) *Sync[T] {
	opts = mustPrepare("NewSync", d, opts)
	n := syncStripes
	if opts.Key == nil {
		n = 1
	}
	s := &Sync[T]{
		c:       newDeliverer(d, opts),
		gate:    newGate(),
		seed:    maphash.MakeSeed(),
		stripes: make([]chan struct{}, n),
		stop:    make(chan struct{}),
	}
	for i := range s.stripes {
		s.stripes[i] = make(chan struct{}, 1)
	}
	return s
}

// Schedule dispatches item, retrying failures with backoff, and marks it
// dispatched; after MaxAttempts failures it hands it to DeadLetter and returns
// nil. It waits first for earlier items of the same key. It returns an error
// only if ctx is done (while waiting for its turn or between retries: the
// item then stays undispatched), or if the scheduler is closed (ErrClosed).
func (s *Sync[T]) Schedule(ctx context.Context, item T) error {
	if !s.gate.enter() {
		return errScheduleClosed
	}
	defer s.gate.leave()

	lock := s.stripes[0]
	if len(s.stripes) > 1 {
		lock = s.stripes[maphash.String(s.seed, s.c.o.Key(item))%uint64(len(s.stripes))]
	}
	select {
	case lock <- struct{}{}:
	default:
		select {
		case lock <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("dispatcher: waiting for an earlier item of the same key: %w", ctx.Err())
		case <-s.stop:
			return errAbandoned
		}
	}
	defer func() { <-lock }()
	return s.c.deliver(ctx, s.stop, item)
}

// Close refuses further items and waits for the Schedule calls in progress.
// If ctx is done first, they stop retrying (their items stay undispatched)
// and Close returns an error wrapping ctx.Err().
func (s *Sync[T]) Close(ctx context.Context) error {
	s.gate.shut()
	if err := s.gate.wait(ctx); err != nil {
		s.stopOnce.Do(func() { close(s.stop) })
		return fmt.Errorf("dispatcher: close: calls still dispatching: %w", err)
	}
	return nil
}
