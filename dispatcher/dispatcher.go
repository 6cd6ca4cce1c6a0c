// Package dispatcher hands stored commits to the rest of an application
// (message buses, projections, read models) at least once, in order per
// stream, with retries and a dead-letter hook. It is generic over the item
// it dispatches; package eventstore instantiates it with its Commit type.
//
// # Dispatchers and schedulers
//
// A [Dispatcher] is your code: it publishes one item and returns nil once the
// item is safely handed over. [Func] turns a plain function into one, and
// [Nop] accepts everything:
//
//	pub := dispatcher.Func[Commit](func(ctx context.Context, c Commit) error {
//		return bus.Publish(ctx, c.StreamID, c.Payload)
//	})
//
// A [Scheduler] decides when the dispatcher runs. The store calls
// [Scheduler.Schedule] right after a commit is stored and
// [Scheduler.Close] when it shuts down. Two schedulers are provided:
//
//   - [Sync] ([NewSync]) dispatches in the caller's goroutine, retries
//     included, before Schedule returns: when CommitChanges returns, the
//     commit has been published (or handed to the dead-letter hook). Simple
//     and predictable, but every commit waits for the dispatcher.
//   - [Async] ([NewAsync]) puts the item on a bounded in-memory queue and
//     returns at once; background workers dispatch it. Commits do not wait
//     for the dispatcher, but Schedule blocks while the queue is full (back
//     pressure), and items still queued when the process dies are not lost:
//     see below.
//
// # At least once
//
// Options.MarkDispatched is called only after Dispatch returned nil; the store
// uses it to record the commit as dispatched. Whatever was not marked (queued
// when the process died, abandoned when Close ran out of time, dead-lettered,
// or dispatched but not marked because MarkDispatched failed) stays
// undispatched in storage and is dispatched again when the store starts next.
// So a commit is never lost, but it can be dispatched more than once:
// consumers must be idempotent (the commit ID identifies a commit).
//
// # Retries and dead letters
//
// A failing Dispatch (an error or a panic, which is recovered) is retried up to
// Options.MaxAttempts attempts in all, waiting between attempts with
// exponential backoff and full jitter: a random wait of up to InitialBackoff,
// then up to twice that, and so on, capped at MaxBackoff. After the last
// attempt the item goes to Options.DeadLetter with the last error, and is NOT
// marked dispatched: it stays visible as undispatched for an operator, or for
// the next start, to deal with.
//
// # Ordering
//
// Items with the same Options.Key (the store uses bucket and stream) are
// dispatched in the order they were scheduled, one at a time: an item being
// retried holds back the later items of its key. Items with different keys may
// be dispatched in any order, and in parallel when Async runs several workers
// (each key always goes to the same worker). A nil Key puts every item under
// one key: one global order. Order is the order of Schedule calls: a caller
// that wants revision order for a stream schedules that stream's commits in
// revision order.
//
// # Shutting down
//
// Close stops accepting items (Schedule then fails with [ErrClosed]) and
// waits for what is queued or in flight, retries included, until its context
// is done. If the context ends first, Close stops retrying, leaves the rest
// undispatched for the next start, and returns the context's error.
package dispatcher

import (
	"context"
	"errors"
)

// ErrClosed is returned, wrapped, by Schedule once Close has been called.
var ErrClosed = errors.New("dispatcher: closed")

// A Dispatcher publishes stored items. Dispatch returns nil once item is
// safely handed over; any error (or panic) makes the scheduler retry it.
// Dispatch may be called again for an item it already accepted (at least
// once), and, with Async and several workers, concurrently for items of
// different keys.
type Dispatcher[T any] interface {
	Dispatch(ctx context.Context, item T) error
}

// Func adapts an ordinary function to the Dispatcher interface.
type Func[T any] func(ctx context.Context, item T) error

// Dispatch calls f(ctx, item).
func (f Func[T]) Dispatch(ctx context.Context, item T) error { return f(ctx, item) }

// Nop is a Dispatcher that accepts every item and does nothing. A nil
// Dispatcher is refused by NewSync and NewAsync; pass Nop instead.
type Nop[T any] struct{}

// Dispatch returns nil.
func (Nop[T]) Dispatch(context.Context, T) error { return nil }

// A Scheduler runs a Dispatcher for each item the store hands it. Sync and
// Async implement it.
type Scheduler[T any] interface {
	// Schedule hands over a stored item. Sync dispatches it, with retries,
	// before returning. Async enqueues it, blocking while the bounded queue
	// is full until ctx is done. Schedule fails only when ctx is done or the
	// scheduler is closed (ErrClosed); a dispatch that keeps failing goes to
	// the dead-letter hook, not to the caller.
	Schedule(ctx context.Context, item T) error

	// Close stops accepting items and waits until what is queued or in flight
	// has been dispatched (or dead-lettered), or until ctx is done, in which
	// case it stops retrying and returns an error wrapping ctx.Err(). Items
	// left over stay undispatched. Calling Close again waits the same way.
	Close(ctx context.Context) error
}

// A TryScheduler is a Scheduler that can also queue an item without
// blocking: a caller that must not wait (one handing over items in a
// strict order from a critical section, say) tries first and falls back to
// Schedule only when the queue is full. Async implements it; Sync, which
// dispatches in the caller's goroutine, does not.
type TryScheduler[T any] interface {
	Scheduler[T]
	// TrySchedule queues item if that can be done at once, and reports
	// whether it did. It never blocks and never dispatches item itself;
	// false (the queue is full, or the scheduler closed) leaves the caller
	// to call Schedule.
	TrySchedule(item T) bool
}

var (
	_ Scheduler[int]    = (*Sync[int])(nil)
	_ TryScheduler[int] = (*Async[int])(nil)
)
