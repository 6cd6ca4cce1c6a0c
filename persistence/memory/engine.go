package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/goeventstore/eventstore/persistence"
)

// DefaultPageSize is the number of commits a read copies under the lock at a
// time, unless WithPageSize says otherwise.
const DefaultPageSize = 512

// Engine is the in-memory storage engine. It is safe for concurrent use. The
// zero value is not usable: call New.
//
// Locks are taken in this order: a shard's (one, or all in index order),
// then mu, then a log chunk's. See the package documentation.
type Engine struct {
	pageSize int
	seed     maphash.Seed
	closed   atomic.Bool               // set under every lock
	log      atomic.Pointer[commitLog] // st.log, for MarkDispatched
	_        [64]byte                  // keeps the above, read-mostly, off mu's line

	shards [nShards]shard

	mu sync.RWMutex // guards st
	st state
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
	e := &Engine{pageSize: DefaultPageSize, seed: maphash.MakeSeed()}
	for _, o := range opts {
		o(e)
	}
	e.reset(0)
	return e
}

// shard returns the shard of a stream: by its ID alone, as streams of
// different buckets rarely share one.
func (e *Engine) shard(bucketID, streamID string) *shard {
	return &e.shards[maphash.String(e.seed, streamID)%nShards]
}

// lockAll takes every lock but the chunks', for an operation on the whole
// engine.
func (e *Engine) lockAll() {
	for i := range e.shards {
		e.shards[i].mu.Lock()
	}
	e.mu.Lock()
}

func (e *Engine) unlockAll() {
	e.mu.Unlock()
	for i := range e.shards {
		e.shards[i].mu.Unlock()
	}
}

// reset empties the engine; checkpoints continue after lastCheckpoint. Every
// lock must be held.
func (e *Engine) reset(lastCheckpoint int64) {
	e.st = state{log: newLog(lastCheckpoint), buckets: map[string]*bucket{}}
	e.log.Store(e.st.log)
	for i := range e.shards {
		e.shards[i].streams = map[string]*stream{}
		e.shards[i].last = nil
	}
}

// Initialize does nothing but check that the engine is open: memory needs no
// preparation.
func (e *Engine) Initialize(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return opError("initialize", err)
	}
	if e.closed.Load() {
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
	e.lockAll()
	defer e.unlockAll()
	if e.closed.Load() {
		return opError("purge", persistence.ErrClosed)
	}
	e.reset(e.st.log.last())
	return nil
}

// Drop removes everything, like Purge, and also restarts checkpoint
// numbering at 1. The engine stays usable.
func (e *Engine) Drop(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return opError("drop", err)
	}
	e.lockAll()
	defer e.unlockAll()
	if e.closed.Load() {
		return opError("drop", persistence.ErrClosed)
	}
	e.reset(0)
	return nil
}

// Close releases everything the engine holds. Later calls, Close included,
// fail with ErrClosed. Calls in progress hold the lock only briefly, so
// Close never waits long and ignores ctx.
func (e *Engine) Close(ctx context.Context) error {
	e.lockAll()
	defer e.unlockAll()
	if e.closed.Load() {
		return opError("close", persistence.ErrClosed)
	}
	e.closed.Store(true)
	e.st = state{}
	e.log.Store(nil)
	for i := range e.shards {
		e.shards[i].streams, e.shards[i].last = nil, nil
	}
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
