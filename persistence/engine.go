package persistence

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"sync"
	"sync/atomic"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Engine is a storage engine as users, stores and tools hold it: the portable
// layer over an engine's driver (see package driver). It validates input,
// bounds every call with the operation timeout, refuses calls after Close,
// pages reads, and reports errors the same way whatever the engine:
// *StreamError naming the stream, sentinels that errors.Is finds, every
// storage failure in exactly one class (ErrStorageUnavailable,
// ErrPermissionDenied, ErrNotInitialized, ErrMisconfigured, ErrStorage).
//
// Engine packages return one from their Open and New functions; OpenURL
// opens one by URL. An Engine is safe for concurrent use.
//
// The read methods return iterators that fetch a page (Settings.PageSize) per
// engine call. The body of a loop over them may call the Engine again
// (commit, mark dispatched): no page holds storage resources while it is
// yielded. Each range runs the read anew. A failure is yielded once, as a
// zero value with a non-nil error, and ends the sequence.
type Engine struct {
	d        driver.Engine
	name     string
	settings Settings
	gate     gate
	// dropping keeps Drop apart from every other call: Drop holds it
	// exclusively, the other calls of a non-immediate driver shared.
	dropping sync.RWMutex

	snap   driver.Snapshotter
	disp   driver.DispatchTracker
	del    driver.StreamDeleter
	purge  driver.Purger
	drop   driver.Dropper
	head   driver.HeadReader
	values driver.ValueCommitter

	immediate bool // the driver is a driver.Immediate: no timeouts
	wake      waker
}

// NewEngine returns the portable Engine over d, an engine's driver. name
// names the engine in messages ("mysql"). Engine packages call it from their
// constructors; users call those.
func NewEngine(name string, d driver.Engine, opts ...Option) (*Engine, error) {
	if d == nil {
		return nil, &ValidationError{Field: "driver", Reason: "must not be nil"}
	}
	s, err := NewSettings(opts...)
	if err != nil {
		return nil, err
	}
	return newEngine(name, d, *s), nil
}

// NewEngineFrom is NewEngine for a driver made from the settings: it
// applies opts to the defaults, calls newDriver with the result (which
// reads the engine's own options from it) and returns the Engine over the
// driver, or the first error. An engine package's New ends with it.
func NewEngineFrom[D driver.Engine](name string, newDriver func(*Settings) (D, error), opts ...Option) (*Engine, error) {
	s, err := NewSettings(opts...)
	if err != nil {
		return nil, err
	}
	d, err := newDriver(s)
	if err != nil {
		return nil, err
	}
	return newEngine(name, d, *s), nil
}

// NewEngineWithSettings is NewEngine for settings already made with
// NewSettings (engines that read their own options from them first).
func NewEngineWithSettings(name string, d driver.Engine, s *Settings) *Engine {
	return newEngine(name, d, *s)
}

func newEngine(name string, d driver.Engine, s Settings) *Engine {
	e := &Engine{d: d, name: name, settings: s}
	e.snap, _ = d.(driver.Snapshotter)
	e.disp, _ = d.(driver.DispatchTracker)
	e.del, _ = d.(driver.StreamDeleter)
	e.purge, _ = d.(driver.Purger)
	e.drop, _ = d.(driver.Dropper)
	e.head, _ = d.(driver.HeadReader)
	e.values, _ = d.(driver.ValueCommitter)
	_, e.immediate = d.(driver.Immediate)
	return e
}

// Name returns the engine's name ("memory", "mysql", ...).
func (e *Engine) Name() string { return e.name }

// Settings returns the engine's settings.
func (e *Engine) Settings() Settings { return e.settings }

// String names the engine for logs (the driver's String if it has one,
// never credentials).
func (e *Engine) String() string {
	if s, ok := e.d.(fmt.Stringer); ok {
		return s.String()
	}
	return e.name + " engine"
}

// Capability names an optional part of the engine contract.
type Capability string

// The capabilities an engine may have (see package driver).
const (
	Snapshots      Capability = "snapshots"        // AddSnapshot, LatestSnapshot, StreamsToSnapshot
	Dispatch       Capability = "dispatch"         // Undispatched, MarkDispatched
	Delete         Capability = "delete"           // DeleteStream
	Purge          Capability = "purge"            // Purge, PurgeBucket
	Drop           Capability = "drop"             // Drop
	Head           Capability = "head"             // Head
	InProcessValue Capability = "in-process-value" // CommitValue keeps values (memory)
	// DispatchedCommit: CommitDispatched stores a commit marked dispatched
	// in the commit's own request (without it, a Commit then a mark).
	DispatchedCommit Capability = "dispatched-commit"
)

// Supports reports whether the engine has capability c.
func (e *Engine) Supports(c Capability) bool {
	switch c {
	case Snapshots:
		return e.snap != nil
	case Dispatch:
		return e.disp != nil
	case Delete:
		return e.del != nil
	case Purge:
		return e.purge != nil
	case Drop:
		return e.drop != nil
	case Head:
		return e.head != nil
	case DispatchedCommit:
		_, ok := e.disp.(driver.DispatchedCommitter)
		return ok
	case InProcessValue:
		return e.values != nil
	}
	return false
}

// As sets target to the engine's native client if the engine offers one of
// that type (a **sql.DB, a **mongo.Client...), and reports whether it did.
// See the engine package's documentation for the types it supports.
func (e *Engine) As(target any) bool {
	if a, ok := e.d.(driver.Aser); ok {
		return a.As(target)
	}
	return false
}

// call runs f, an engine call for operation op, under the gate and the
// timeout, and classifies its error. It waits while Drop runs.
func call[T any](e *Engine, ctx context.Context, op string, timeout bool, f func(context.Context) (T, error)) (T, error) {
	return run(e, ctx, op, timeout, false, f)
}

// run is call; exclusive runs f alone, once the other calls in progress
// have returned, and holds new ones until it returns (Drop).
func run[T any](e *Engine, ctx context.Context, op string, timeout, exclusive bool, f func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if e.immediate {
		// It answers at once and copes with a concurrent Close: no
		// timer, no counting, only the closed state.
		if e.gate.closed() {
			return zero, ErrClosed
		}
		v, err := f(ctx)
		if err != nil {
			return v, classify(e.d, ctx, ctx, op, err)
		}
		return v, nil
	}
	if !e.gate.enter() {
		return zero, ErrClosed
	}
	defer e.gate.leave()
	if exclusive {
		e.dropping.Lock()
		defer e.dropping.Unlock()
	} else {
		e.dropping.RLock()
		defer e.dropping.RUnlock()
	}
	d := e.settings.AdminTimeout
	if timeout {
		d = e.settings.Timeout
	}
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	v, err := f(cctx)
	if err != nil {
		return v, classify(e.d, ctx, cctx, op, err)
	}
	return v, nil
}

// opError wraps err for an operation that names no stream.
func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	if ce, ok := err.(*classError); ok && ce.op == "" {
		ce.op = op
		return ce
	}
	if _, ok := err.(*ValidationError); ok {
		return err
	}
	return fmt.Errorf("eventstore: %s: %w", op, err)
}

// streamError wraps err with the stream's coordinates.
func streamError(op, bucketID, streamID string, revision int, err error) error {
	if err == nil {
		return nil
	}
	return &StreamError{Op: op, BucketID: bucketID, StreamID: streamID, Revision: revision, Err: err}
}

// unsupported reports a missing capability.
func (e *Engine) unsupported(op string, c Capability) error {
	return fmt.Errorf("eventstore: %s: %w: the %s engine has no %s capability", op, ErrUnsupported, e.name, c)
}

// Initialize prepares storage: creates tables, indexes, buckets or
// containers. It is idempotent and cheap to repeat, and must run before
// any other method.
func (e *Engine) Initialize(ctx context.Context) error {
	in, ok := e.d.(driver.Initializer)
	if !ok {
		if !e.gate.enter() {
			return opError("initialize", ErrClosed)
		}
		e.gate.leave()
		return ctx.Err()
	}
	_, err := call(e, ctx, "initialize", false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, in.Initialize(ctx)
	})
	return opError("initialize", err)
}

// Commit stores attempt atomically and returns it with its checkpoint.
//
// It returns a *StreamError wrapping: a *ValidationError (matching
// ErrInvalid) for bad input; ErrDuplicateCommit if the stream already holds
// a commit with the attempt's commit ID (whatever its sequence);
// ErrConcurrency if it holds the attempt's commit sequence; ErrClosed after
// Close; the context's error; or a storage error class.
//
// After ErrInvalid, ErrDuplicateCommit, ErrConcurrency or ErrClosed nothing
// of the attempt was written, ever. After any other error the attempt may
// have been stored (the answer was lost, the deadline passed while the
// storage wrote): it is then stored wholly or not at all, and a retry with
// the same commit ID tells which (ErrDuplicateCommit: it was stored).
func (e *Engine) Commit(ctx context.Context, attempt *CommitAttempt) (Commit, error) {
	return e.commit(ctx, attempt, nil)
}

// CommitValue is Commit that hands v, the caller's in-process form of the
// payload, to an engine that keeps it (Supports(InProcessValue)); reads
// return it in Commit.Value. Other engines ignore v.
func (e *Engine) CommitValue(ctx context.Context, attempt *CommitAttempt, v any) (Commit, error) {
	return e.commit(ctx, attempt, v)
}

// CommitDispatched is Commit for a commit that has already reached its
// dispatcher (a copy of a commit dispatched elsewhere): it is stored
// marked dispatched, so Undispatched never yields it. An engine with the
// driver.DispatchedCommitter capability does it in the commit's own
// request; any other engine with dispatch tracking gets a Commit, then a
// MarkDispatched. If that mark fails, the commit is stored all the same:
// CommitDispatched returns it with the mark's error, and the commit stays
// undispatched until marked (a store would dispatch it again).
func (e *Engine) CommitDispatched(ctx context.Context, attempt *CommitAttempt) (Commit, error) {
	if e.disp == nil {
		return Commit{}, e.unsupported("commit dispatched", Dispatch)
	}
	if dc, ok := e.disp.(driver.DispatchedCommitter); ok {
		return e.commitWith(ctx, attempt, dc.CommitDispatched)
	}
	c, err := e.commit(ctx, attempt, nil)
	if err != nil {
		return c, err
	}
	return c, e.MarkDispatched(ctx, c)
}

func (e *Engine) commit(ctx context.Context, a *CommitAttempt, v any) (Commit, error) {
	return e.commitWith(ctx, a, func(ctx context.Context, a *CommitAttempt) (Commit, error) {
		if v != nil && e.values != nil {
			return e.values.CommitValue(ctx, a, v)
		}
		return e.d.Commit(ctx, a)
	})
}

// commitWith is Commit, storing a with store: validation, the call's
// bounds, the classification of its errors and the wake-up of followers.
func (e *Engine) commitWith(ctx context.Context, a *CommitAttempt, store func(context.Context, *CommitAttempt) (Commit, error)) (Commit, error) {
	if err := ValidateAttempt(a); err != nil {
		if a == nil {
			return Commit{}, opError("commit", err)
		}
		return Commit{}, commitError(a, err)
	}
	sent := false // the engine was called: the write may have happened
	c, err := call(e, ctx, "commit", true, func(ctx context.Context) (Commit, error) {
		sent = true
		return store(ctx, a)
	})
	if err != nil {
		if sent {
			err = outcomeUnknown(err)
		}
		return Commit{}, commitError(a, err)
	}
	if c.Checkpoint <= 0 {
		return Commit{}, commitError(a, outcomeUnknown(&classError{class: ErrStorage, err: fmt.Errorf("engine returned checkpoint %d", c.Checkpoint)}))
	}
	e.wake.notify()
	return c, nil
}

// ReadStream yields the commits of one stream that hold at least one event
// in the revision range [minRevision, maxRevision], in commit sequence
// order, whole commits. maxRevision <= 0 means no upper bound. A stream that
// does not exist yields nothing.
func (e *Engine) ReadStream(ctx context.Context, bucketID, streamID string, minRevision, maxRevision int) iter.Seq2[Commit, error] {
	return func(yield func(Commit, error) bool) {
		fail := func(err error) { yield(Commit{}, streamError("read stream", bucketID, streamID, 0, err)) }
		if err := validateStream(bucketID, streamID); err != nil {
			fail(err)
			return
		}
		if err := ValidateRange(minRevision, maxRevision); err != nil {
			fail(err)
			return
		}
		base := driver.StreamQuery{BucketID: bucketID, StreamID: streamID,
			MinRevision: max(minRevision, 1), MaxRevision: maxRevision}
		if base.MaxRevision <= 0 {
			base.MaxRevision = math.MaxInt
		}
		err := yieldPages(yield, pager{
			fetch: func(after int64, limit int, buf []Commit) ([]Commit, error) {
				q := base
				q.AfterSequence, q.Limit, q.Buf = int(after), limit, buf
				page, err := call(e, ctx, "read stream", true, func(ctx context.Context) ([]Commit, error) {
					return e.d.ReadStream(ctx, q)
				})
				if err == nil {
					err = checkStreamPage(q, page)
				}
				return page, err
			},
			key:   func(c *Commit) int64 { return int64(c.CommitSequence) },
			grow:  e.nextLimit,
			guess: true, // a stream's commit sequences have no gaps
		}, 0, e.settings.PageSize)
		if err != nil {
			fail(err)
		}
	}
}

func checkStreamPage(q driver.StreamQuery, page []Commit) error {
	if len(page) > q.Limit {
		return engineBug("read stream returned %d commits for a page of %d", len(page), q.Limit)
	}
	last := q.AfterSequence
	for i := range page {
		c := &page[i]
		if c.CommitSequence <= last || c.BucketID != q.BucketID || c.StreamID != q.StreamID {
			return engineBug("read stream after sequence %d returned sequence %d of bucket %q stream %q", last, c.CommitSequence, c.BucketID, c.StreamID)
		}
		last = c.CommitSequence
	}
	return nil
}

// engineBug reports an engine that broke the contract.
func engineBug(format string, args ...any) error {
	return &classError{class: ErrStorage, err: fmt.Errorf("engine broke the contract: "+format, args...)}
}

// ReadAll yields the commits of every bucket whose checkpoint is greater
// than after, in increasing checkpoint order. A caller that polls again
// from the last checkpoint it received sees every commit exactly once.
func (e *Engine) ReadAll(ctx context.Context, after int64) iter.Seq2[Commit, error] {
	return e.readCommits(ctx, "read all", "", after)
}

// ReadBucket is ReadAll restricted to one bucket, with the same guarantee.
func (e *Engine) ReadBucket(ctx context.Context, bucketID string, after int64) iter.Seq2[Commit, error] {
	if err := ValidateID("BucketID", bucketID); err != nil {
		return func(yield func(Commit, error) bool) {
			yield(Commit{}, &StreamError{Op: "read bucket", BucketID: bucketID, Err: err})
		}
	}
	return e.readCommits(ctx, "read bucket", bucketID, after)
}

func (e *Engine) readCommits(ctx context.Context, op, bucketID string, after int64) iter.Seq2[Commit, error] {
	return func(yield func(Commit, error) bool) {
		fail := func(err error) {
			if bucketID != "" {
				yield(Commit{}, &StreamError{Op: op, BucketID: bucketID, Err: err})
				return
			}
			yield(Commit{}, opError(op, err))
		}
		if bucketID != "" {
			if err := ValidateID("BucketID", bucketID); err != nil {
				fail(err)
				return
			}
		}
		if after < 0 {
			fail(&ValidationError{Field: "after", Value: after, Reason: "must not be negative"})
			return
		}
		err := yieldPages(yield, pager{
			fetch: func(after int64, limit int, buf []Commit) ([]Commit, error) {
				q := driver.CommitQuery{BucketID: bucketID, After: after, Limit: limit, Buf: buf}
				cut := false
				page, err := call(e, ctx, op, true, func(ctx context.Context) ([]Commit, error) {
					page, err := e.d.ReadCommits(ctx, q)
					if errors.Is(err, driver.ErrPageCut) {
						cut, err = true, nil
					}
					return page, err
				})
				if err == nil {
					err = checkCheckpointPage(op, after, limit, bucketID, page)
				}
				if err == nil && cut {
					err = errPageCut
				}
				return page, err
			},
			key:   checkpointKey,
			grow:  e.nextLimit,
			guess: true, // where an engine numbers commits one after the other
		}, after, e.settings.PageSize)
		if err != nil {
			fail(err)
		}
	}
}

// checkpointKey is the key of a read in checkpoint order.
func checkpointKey(c *Commit) int64 { return c.Checkpoint }

func checkCheckpointPage(op string, after int64, limit int, bucketID string, page []Commit) error {
	if len(page) > limit {
		return engineBug("%s returned %d commits for a page of %d", op, len(page), limit)
	}
	last := after
	for i := range page {
		c := &page[i]
		if c.Checkpoint <= last {
			return engineBug("%s after checkpoint %d returned checkpoint %d", op, last, c.Checkpoint)
		}
		if bucketID != "" && c.BucketID != bucketID {
			return engineBug("%s of bucket %q returned a commit of bucket %q", op, bucketID, c.BucketID)
		}
		last = c.Checkpoint
	}
	return nil
}

// Undispatched yields the commits not yet marked dispatched, in checkpoint
// order.
func (e *Engine) Undispatched(ctx context.Context) iter.Seq2[Commit, error] {
	return e.UndispatchedAfter(ctx, 0)
}

// UndispatchedAfter yields the commits not yet marked dispatched whose
// checkpoint is greater than after, in checkpoint order.
func (e *Engine) UndispatchedAfter(ctx context.Context, after int64) iter.Seq2[Commit, error] {
	return func(yield func(Commit, error) bool) {
		const op = "undispatched"
		if e.disp == nil {
			yield(Commit{}, e.unsupported(op, Dispatch))
			return
		}
		err := yieldPages(yield, pager{
			fetch: func(after int64, limit int, _ []Commit) ([]Commit, error) {
				page, err := call(e, ctx, op, true, func(ctx context.Context) ([]Commit, error) {
					return e.disp.Undispatched(ctx, after, limit)
				})
				if err == nil {
					err = checkCheckpointPage(op, after, limit, "", page)
				}
				return page, err
			},
			key:  checkpointKey,
			grow: func(limit int) int { return limit },
			// No guess: the commits not yet dispatched are seldom every one
			// of a stretch of the log.
		}, after, e.settings.PageSize)
		if err != nil {
			yield(Commit{}, opError(op, err))
		}
	}
}

// MarkDispatched records that c reached its dispatcher. Marking a commit
// twice, or one that has since been deleted, is not an error.
func (e *Engine) MarkDispatched(ctx context.Context, c Commit) error {
	const op = "mark dispatched"
	if e.disp == nil {
		return e.unsupported(op, Dispatch)
	}
	if c.Checkpoint <= 0 {
		return streamError(op, c.BucketID, c.StreamID, 0, &ValidationError{Field: "Checkpoint", Value: c.Checkpoint, Reason: "must be positive: not a stored commit"})
	}
	_, err := call(e, ctx, op, true, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, e.disp.MarkDispatched(ctx, c)
	})
	if err != nil {
		return &StreamError{Op: op, BucketID: c.BucketID, StreamID: c.StreamID, CommitSequence: c.CommitSequence, CommitID: c.CommitID, Err: err}
	}
	return nil
}

// LatestSnapshot returns the snapshot of the stream with the greatest
// revision at or below maxRevision (maxRevision <= 0: no bound). With none,
// it returns an error wrapping ErrSnapshotNotFound.
func (e *Engine) LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (Snapshot, error) {
	const op = "latest snapshot"
	if e.snap == nil {
		return Snapshot{}, e.unsupported(op, Snapshots)
	}
	if err := validateStream(bucketID, streamID); err != nil {
		return Snapshot{}, streamError(op, bucketID, streamID, 0, err)
	}
	if maxRevision <= 0 {
		maxRevision = math.MaxInt
	}
	s, err := call(e, ctx, op, true, func(ctx context.Context) (Snapshot, error) {
		return e.snap.LatestSnapshot(ctx, bucketID, streamID, maxRevision)
	})
	if err != nil {
		return Snapshot{}, streamError(op, bucketID, streamID, 0, err)
	}
	return s, nil
}

// AddSnapshot stores s, replacing any snapshot of the same stream at the
// same revision. If the stream holds no commit containing s.StreamRevision
// it returns an error wrapping ErrStreamNotFound and stores nothing.
func (e *Engine) AddSnapshot(ctx context.Context, s Snapshot) error {
	const op = "add snapshot"
	if e.snap == nil {
		return e.unsupported(op, Snapshots)
	}
	if err := ValidateSnapshot(&s); err != nil {
		return streamError(op, s.BucketID, s.StreamID, s.StreamRevision, err)
	}
	_, err := call(e, ctx, op, true, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, e.snap.AddSnapshot(ctx, s)
	})
	return streamError(op, s.BucketID, s.StreamID, s.StreamRevision, err)
}

// StreamsToSnapshot yields the heads of the bucket's streams whose head
// revision is at least threshold events past their latest snapshot, in no
// particular order.
func (e *Engine) StreamsToSnapshot(ctx context.Context, bucketID string, threshold int) iter.Seq2[StreamHead, error] {
	return func(yield func(StreamHead, error) bool) {
		const op = "streams to snapshot"
		fail := func(err error) { yield(StreamHead{}, &StreamError{Op: op, BucketID: bucketID, Err: err}) }
		if e.snap == nil {
			yield(StreamHead{}, e.unsupported(op, Snapshots))
			return
		}
		if err := ValidateID("BucketID", bucketID); err != nil {
			fail(err)
			return
		}
		if threshold < 1 {
			fail(&ValidationError{Field: "threshold", Value: threshold, Reason: "must be at least 1"})
			return
		}
		q := driver.HeadQuery{BucketID: bucketID, Threshold: threshold, Limit: e.settings.PageSize}
		for {
			type result struct {
				heads []StreamHead
				next  string
			}
			r, err := call(e, ctx, op, true, func(ctx context.Context) (result, error) {
				h, n, err := e.snap.StreamsToSnapshot(ctx, q)
				return result{h, n}, err
			})
			if err == nil && len(r.heads) > q.Limit {
				err = engineBug("%s returned %d heads for a page of %d", op, len(r.heads), q.Limit)
			}
			if err == nil && r.next != "" && r.next == q.Cursor {
				err = engineBug("%s returned the cursor it was given", op)
			}
			if err != nil {
				fail(err)
				return
			}
			for _, h := range r.heads {
				if !yield(h, nil) {
					return
				}
			}
			if r.next == "" {
				return
			}
			q.Cursor = r.next
		}
	}
}

// DeleteStream removes a stream's commits and snapshots. Deleting a stream
// that does not exist is not an error. Checkpoints of deleted commits are
// never reused.
func (e *Engine) DeleteStream(ctx context.Context, bucketID, streamID string) error {
	const op = "delete stream"
	if e.del == nil {
		return e.unsupported(op, Delete)
	}
	if err := validateStream(bucketID, streamID); err != nil {
		return streamError(op, bucketID, streamID, 0, err)
	}
	_, err := call(e, ctx, op, false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, e.del.DeleteStream(ctx, bucketID, streamID)
	})
	return streamError(op, bucketID, streamID, 0, err)
}

// Purge removes every commit and snapshot of every bucket. The storage
// itself stays usable, and checkpoints are never handed out again.
func (e *Engine) Purge(ctx context.Context) error {
	const op = "purge"
	if e.purge == nil {
		return e.unsupported(op, Purge)
	}
	_, err := call(e, ctx, op, false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, e.purge.Purge(ctx)
	})
	return opError(op, err)
}

// PurgeBucket removes every commit and snapshot of one bucket.
func (e *Engine) PurgeBucket(ctx context.Context, bucketID string) error {
	const op = "purge bucket"
	if e.purge == nil {
		return e.unsupported(op, Purge)
	}
	if err := ValidateID("BucketID", bucketID); err != nil {
		return &StreamError{Op: op, BucketID: bucketID, Err: err}
	}
	_, err := call(e, ctx, op, false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, e.purge.PurgeBucket(ctx, bucketID)
	})
	if err != nil {
		return &StreamError{Op: op, BucketID: bucketID, Err: err}
	}
	return nil
}

// Drop removes the data and the storage Initialize created (tables,
// collections, containers). Initialize makes the engine usable again.
//
// Drop runs alone on this Engine: it waits for the calls in progress to
// return, and the calls made meanwhile wait until it has returned (so no
// commit, and no read that writes as it goes, lands half in the old
// storage and half in the new). Engines over the same storage in other
// processes are not held: stop them first.
func (e *Engine) Drop(ctx context.Context) error {
	const op = "drop"
	if e.drop == nil {
		return e.unsupported(op, Drop)
	}
	_, err := run(e, ctx, op, false, true, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, e.drop.Drop(ctx)
	})
	return opError(op, err)
}

// Head returns the greatest checkpoint of a visible commit (0 if none).
// Engines without the Head capability find it by reading the commits in
// order, which costs a read of the store.
func (e *Engine) Head(ctx context.Context) (int64, error) {
	const op = "head"
	if e.head != nil {
		cp, err := call(e, ctx, op, true, func(ctx context.Context) (int64, error) { return e.head.Head(ctx) })
		return cp, opError(op, err)
	}
	var last int64
	for c, err := range e.ReadAll(ctx, 0) {
		if err != nil {
			return 0, err
		}
		last = c.Checkpoint
	}
	return last, nil
}

// Close waits for the calls in progress (until ctx is done), then releases
// the engine's resources. Later calls fail with ErrClosed; closing again
// returns nil.
func (e *Engine) Close(ctx context.Context) error {
	first, err := e.gate.close(ctx)
	if !first {
		return nil
	}
	if c, ok := e.d.(driver.Closer); ok {
		cerr := c.Close(context.WithoutCancel(ctx))
		if cerr != nil {
			err = opError("close", cerr)
		}
	}
	return err
}

func validateStream(bucketID, streamID string) error {
	if err := ValidateID("BucketID", bucketID); err != nil {
		return err
	}
	return ValidateID("StreamID", streamID)
}

// gate tracks the calls in progress and the closed state in one word, so
// that entering and leaving cost an atomic add each (a lock would be a
// good part of an in-memory commit): n counts the calls in progress, plus
// closedBit once Close has begun.
type gate struct {
	n       atomic.Int64
	mu      sync.Mutex    // serializes close
	drained chan struct{} // made before closedBit is set; signalled when n drops to closedBit
}

const closedBit = 1 << 62

// closed reports whether close has begun.
func (g *gate) closed() bool { return g.n.Load()&closedBit != 0 }

func (g *gate) enter() bool {
	if g.n.Add(1)&closedBit != 0 {
		g.leave()
		return false
	}
	return true
}

func (g *gate) leave() {
	if g.n.Add(-1) == closedBit {
		select { // the closer may have been signalled already
		case g.drained <- struct{}{}:
		default:
		}
	}
}

// close marks the gate closed and waits for the calls in progress until ctx
// is done. first is false if it was closed already.
func (g *gate) close(ctx context.Context) (first bool, err error) {
	g.mu.Lock()
	if g.n.Load()&closedBit != 0 {
		g.mu.Unlock()
		return false, nil
	}
	g.drained = make(chan struct{}, 1)
	before := g.n.Or(closedBit)
	g.mu.Unlock()
	for before != 0 {
		select {
		case <-g.drained:
			before = g.n.Load() &^ closedBit
		case <-ctx.Done():
			return true, fmt.Errorf("eventstore: close: calls still in progress: %w", ctx.Err())
		}
	}
	return true, nil
}
