package memory

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/goeventstore/eventstore/persistence"
)

// DefaultPageSize is the number of commits a read copies under the lock at a
// time, unless WithPageSize says otherwise.
const DefaultPageSize = 512

// Engine is the in-memory storage engine. It is safe for concurrent use. The
// zero value is not usable: call New.
type Engine struct {
	pageSize int

	mu     sync.RWMutex
	closed bool
	st     state
}

var _ persistence.Engine = (*Engine)(nil)

// Option configures an Engine.
type Option func(*Engine)

// WithPageSize sets how many commits (or stream heads) a read copies under
// the lock before it yields them. Small values exercise paging in tests;
// values below 1 select DefaultPageSize.
func WithPageSize(n int) Option {
	return func(e *Engine) {
		if n < 1 {
			n = DefaultPageSize
		}
		e.pageSize = n
	}
}

// New returns a new, empty engine. It is ready for use; Initialize is
// accepted and does nothing.
func New(opts ...Option) *Engine {
	e := &Engine{pageSize: DefaultPageSize}
	for _, o := range opts {
		o(e)
	}
	e.st.reset(0)
	return e
}

// Initialize does nothing but check that the engine is open: memory needs no
// preparation.
func (e *Engine) Initialize(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return opError("initialize", err)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return opError("initialize", persistence.ErrClosed)
	}
	return nil
}

// Purge removes every commit and snapshot. Checkpoints keep increasing from
// where they were, so a reader polling from an old checkpoint still sees
// what is committed next.
func (e *Engine) Purge(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return opError("purge", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return opError("purge", persistence.ErrClosed)
	}
	e.st.reset(e.st.log.last())
	return nil
}

// Drop removes everything, like Purge, and also restarts checkpoint
// numbering at 1. The engine stays usable.
func (e *Engine) Drop(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return opError("drop", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return opError("drop", persistence.ErrClosed)
	}
	e.st.reset(0)
	return nil
}

// Close releases everything the engine holds. Later calls, Close included,
// fail with ErrClosed. Calls in progress hold the lock only briefly, so
// Close never waits long and ignores ctx.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return opError("close", persistence.ErrClosed)
	}
	e.closed = true
	e.st = state{}
	return nil
}

// opError wraps err for an operation that concerns no single stream.
func opError(op string, err error) error {
	return fmt.Errorf("eventstore: memory: %s: %w", op, err)
}

// streamError wraps err for an operation on one stream.
func streamError(op, bucketID, streamID string, revision int, err error) error {
	return &persistence.StreamError{Op: op, BucketID: bucketID, StreamID: streamID, Revision: revision, Err: err}
}

// quote quotes an ID for a message.
func quote(id string) string { return strconv.Quote(id) }
