package dispatcher

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// PanicError is the error a recovered panic in Dispatch (or MarkDispatched)
// is turned into. It is retried like any other error and handed to
// DeadLetter, where errors.As finds it.
type PanicError struct {
	Value any    // what was passed to panic
	Stack []byte // the panicking goroutine's stack
}

func (e *PanicError) Error() string { return fmt.Sprintf("dispatcher: panic: %v", e.Value) }

// Unwrap returns the panic value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// deliverer runs one item through attempts, backoff, dead letter and mark:
// the part Sync and Async share.
type deliverer[T any] struct {
	d    Dispatcher[T]
	o    Options[T]
	wait backoff
}

func newDeliverer[T any](d Dispatcher[T], o Options[T]) deliverer[T] {
	return deliverer[T]{d: d, o: o, wait: backoff{initial: o.InitialBackoff, max: o.MaxBackoff}}
}

// errAbandoned is wrapped in the error deliver returns when Close ran out of
// time in the middle of an item's retries.
var errAbandoned = fmt.Errorf("%w before the item was dispatched", ErrClosed)

// deliver dispatches item, retrying with backoff, then marks it dispatched,
// or hands it to the dead-letter hook after the last attempt; both cases
// return nil. It returns an error if ctx is done or stop is closed while
// waiting to retry: the item is then left undispatched.
func (c *deliverer[T]) deliver(ctx context.Context, stop <-chan struct{}, item T) error {
	dispatched, err := c.attempt(ctx, stop, item)
	if dispatched {
		c.mark(ctx, stop, item)
	}
	return err
}

// attempt is deliver without the mark: dispatched reports whether Dispatch
// succeeded, for the caller to mark the item.
func (c *deliverer[T]) attempt(ctx context.Context, stop <-chan struct{}, item T) (dispatched bool, _ error) {
	for attempt := 1; ; attempt++ {
		err := c.dispatch(ctx, item)
		if err == nil {
			return true, nil
		}
		if attempt >= c.o.MaxAttempts {
			c.deadLetter(ctx, item, attempt, err)
			return false, nil
		}
		d := c.wait.delay(attempt)
		c.o.Logger.LogAttrs(ctx, slog.LevelWarn, "dispatcher: dispatch failed, will retry",
			c.keyAttr(item), slog.Int("attempt", attempt), slog.Int("max_attempts", c.o.MaxAttempts),
			slog.Duration("wait", d), slog.Any("error", err))
		if !sleep(ctx, stop, d) {
			cause := ctx.Err()
			if cause == nil {
				cause = errAbandoned
			}
			c.o.Logger.LogAttrs(ctx, slog.LevelWarn, "dispatcher: retries interrupted, item left undispatched",
				c.keyAttr(item), slog.Int("attempt", attempt), slog.Any("error", err), slog.Any("cause", cause))
			return false, fmt.Errorf("dispatcher: %d failed attempts (last: %v), interrupted: %w", attempt, err, cause)
		}
	}
}

// dispatch calls the Dispatcher once, turning a panic into a *PanicError.
func (c *deliverer[T]) dispatch(ctx context.Context, item T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
			c.o.Logger.LogAttrs(ctx, slog.LevelError, "dispatcher: Dispatch panicked",
				c.keyAttr(item), slog.Any("panic", r), slog.String("stack", string(err.(*PanicError).Stack)))
		}
	}()
	return c.d.Dispatch(ctx, item)
}

// mark calls MarkDispatched, retrying a few times; a final failure is only
// logged, since the item will be dispatched again later.
func (c *deliverer[T]) mark(ctx context.Context, stop <-chan struct{}, item T) {
	if c.o.MarkDispatched == nil {
		return
	}
	if err := c.retryMark(ctx, stop, func() error { return c.o.MarkDispatched(ctx, item) }); err != nil {
		c.o.Logger.LogAttrs(ctx, slog.LevelError, "dispatcher: MarkDispatched failed; the item will be dispatched again later",
			c.keyAttr(item), slog.Any("error", err))
	}
}

// MaxMarkBatch is the most items Async hands to one MarkDispatchedBatch
// call.
const MaxMarkBatch = 256

// markBatch calls MarkDispatchedBatch for items, retrying as mark does; a
// final failure is only logged.
func (c *deliverer[T]) markBatch(ctx context.Context, items []T) {
	if len(items) == 0 {
		return
	}
	if err := c.retryMark(ctx, nil, func() error { return c.o.MarkDispatchedBatch(ctx, items) }); err != nil {
		c.o.Logger.LogAttrs(ctx, slog.LevelError, "dispatcher: MarkDispatchedBatch failed; the items will be dispatched again later",
			slog.Int("items", len(items)), c.keyAttr(items[0]), slog.Any("error", err))
	}
}

// retryMark calls f up to markAttempts times, with backoff, until it
// succeeds, turning a panic into a *PanicError; it returns the last error.
func (c *deliverer[T]) retryMark(ctx context.Context, stop <-chan struct{}, f func() error) error {
	var err error
	for attempt := 1; attempt <= markAttempts; attempt++ {
		if err = recovered(f); err == nil {
			return nil
		}
		if attempt < markAttempts && !sleep(ctx, stop, c.wait.delay(attempt)) {
			break
		}
	}
	return err
}

// recovered calls f, turning a panic into a *PanicError.
func recovered(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return f()
}

// deadLetter reports an item whose last attempt failed.
func (c *deliverer[T]) deadLetter(ctx context.Context, item T, attempts int, err error) {
	c.o.Logger.LogAttrs(ctx, slog.LevelError, "dispatcher: giving up, item left undispatched",
		c.keyAttr(item), slog.Int("attempts", attempts), slog.Any("error", err))
	if c.o.DeadLetter == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			c.o.Logger.LogAttrs(ctx, slog.LevelError, "dispatcher: DeadLetter panicked",
				c.keyAttr(item), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
		}
	}()
	c.o.DeadLetter(ctx, item, err)
}

func (c *deliverer[T]) keyAttr(item T) slog.Attr {
	if c.o.Key == nil {
		return slog.Attr{}
	}
	return slog.String("key", c.o.Key(item))
}
