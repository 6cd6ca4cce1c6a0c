package dispatcher

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Defaults applied to zero Options fields.
const (
	DefaultMaxAttempts    = 5
	DefaultInitialBackoff = 10 * time.Millisecond
	DefaultMaxBackoff     = 5 * time.Second
	DefaultQueueSize      = 4096
	DefaultWorkers        = 1
)

// markAttempts is how many times MarkDispatched is tried before the failure
// is logged and the item left to be dispatched again at the next start.
const markAttempts = 3

// Options configure a Sync or Async scheduler. The zero value is usable: zero
// fields take the Default constants.
type Options[T any] struct {
	// Key returns the ordering key of an item (the store uses bucket and
	// stream): items with the same key are dispatched one at a time, in the
	// order they were scheduled. Nil puts every item under one key. Key is
	// called on every Schedule (except by Async with one worker), so it
	// should be cheap.
	Key func(T) string

	// MarkDispatched is called after Dispatch returned nil, and only then.
	// A failure is logged and retried a few times, then left: the item will
	// simply be dispatched again later (at least once). Nil: not called.
	MarkDispatched func(ctx context.Context, item T) error

	// MarkDispatchedBatch, if set, is what Async calls instead of
	// MarkDispatched: once for the items a worker dispatched from one take
	// of its queue (at most MaxMarkBatch at a time, in the order they were
	// dispatched), so that a storage that marks many items in one round
	// trip does so. Until it returns, those items are dispatched and not
	// yet marked: a crash then dispatches them again (at least once, as
	// always). A failure is logged and retried as MarkDispatched's is.
	// Sync ignores it.
	MarkDispatchedBatch func(ctx context.Context, items []T) error

	// MaxAttempts is how many times Dispatch is tried for one item before
	// it goes to DeadLetter. Default 5.
	MaxAttempts int

	// InitialBackoff caps the first wait between attempts; each later wait
	// doubles the cap, up to MaxBackoff. The wait is random below the cap
	// (full jitter). Defaults 10ms and 5s.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration

	// DeadLetter receives an item whose last attempt failed, with the last
	// error. The item is not marked dispatched. Nil: the failure is only
	// logged.
	DeadLetter func(ctx context.Context, item T, err error)

	// QueueSize bounds the Async queue (split evenly among the workers,
	// rounded up): the items scheduled and not yet taken by a worker. A
	// worker takes what is waiting in one batch, so up to twice QueueSize
	// items may be held at once. Default 4096: the queue must absorb the
	// commits made while a worker waits for a CPU (during a garbage
	// collection, a readied worker can wait milliseconds), or committers
	// stall on it. Sync ignores it.
	QueueSize int

	// Workers is the number of Async goroutines dispatching in parallel;
	// items are sharded among them by a hash of Key, so each key keeps its
	// order. Default 1. Sync ignores it.
	Workers int

	// Logger receives retries, dead letters, recovered panics and
	// MarkDispatched failures. Default: discard.
	Logger *slog.Logger
}

// Validate reports an error for negative counts or durations, or a MaxBackoff
// below InitialBackoff. NewSync and NewAsync panic on such options; callers
// taking options from users call Validate first.
func (o Options[T]) Validate() error {
	switch {
	case o.MaxAttempts < 0:
		return fmt.Errorf("dispatcher: MaxAttempts %d is negative", o.MaxAttempts)
	case o.InitialBackoff < 0:
		return fmt.Errorf("dispatcher: InitialBackoff %v is negative", o.InitialBackoff)
	case o.MaxBackoff < 0:
		return fmt.Errorf("dispatcher: MaxBackoff %v is negative", o.MaxBackoff)
	case o.QueueSize < 0:
		return fmt.Errorf("dispatcher: QueueSize %d is negative", o.QueueSize)
	case o.Workers < 0:
		return fmt.Errorf("dispatcher: Workers %d is negative", o.Workers)
	}
	o = o.withDefaults()
	if o.MaxBackoff < o.InitialBackoff {
		return fmt.Errorf("dispatcher: MaxBackoff %v is below InitialBackoff %v", o.MaxBackoff, o.InitialBackoff)
	}
	return nil
}

// withDefaults returns o with its zero fields set to the defaults.
func (o Options[T]) withDefaults() Options[T] {
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.InitialBackoff == 0 {
		o.InitialBackoff = DefaultInitialBackoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = max(DefaultMaxBackoff, o.InitialBackoff)
	}
	if o.QueueSize == 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// mustPrepare validates d and opts for a constructor and applies defaults.
func mustPrepare[T any](who string, d Dispatcher[T], opts Options[T]) Options[T] {
	if d == nil {
		panic("dispatcher: " + who + " with a nil Dispatcher (use dispatcher.Nop)")
	}
	if err := opts.Validate(); err != nil {
		panic(who + ": " + err.Error())
	}
	return opts.withDefaults()
}
