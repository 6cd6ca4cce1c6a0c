package eventstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/goeventstore/eventstore/dispatcher"
	"github.com/goeventstore/eventstore/persistence"
)

// Store is an event store: streams of commits kept by a storage engine, read
// and written through a serializer and the pipeline hooks, with every stored
// commit handed to a dispatcher. Build one with [Wireup] or [New]. A Store
// is safe for concurrent use; the streams it returns are not.
//
// Store's stream methods work on the default bucket ([DefaultBucket]);
// [Store.Bucket] returns any other bucket, with the same methods.
type Store struct {
	engine *persistence.Engine
	ser    Serializer
	cm     commitMarshaler // ser's marshalCommit, if it has one (else no value is kept with commits)
	hooks  hooks
	sched  commitScheduler // nil: commits are not dispatched
	order  *orderer        // schedules each stream's commits in order; nil without sched
	logger *slog.Logger
	closed atomic.Bool
	def    Bucket

	inflight *inflight  // commits handed to the scheduler, not yet marked or dead-lettered
	bg       background // the redispatch at start and the periodic sweep
}

// Options configure a Store made with [New]. The zero value is usable: the
// JSON serializer without registered types, no hooks, no dispatch.
type Options struct {
	// Serializer encodes commits and snapshots. Nil: NewJSONSerializer(nil).
	Serializer Serializer
	// Hooks run in order on every commit read and written (see PipelineHook).
	Hooks []PipelineHook
	// Dispatcher receives every stored commit, after the post-commit hooks,
	// at least once and in order per stream (see package dispatcher). Nil:
	// commits are not dispatched. New does not dispatch what an earlier run
	// left undispatched at once (Wireup's Build does; call
	// Store.Redispatch); the periodic sweep does, RedispatchEvery later.
	Dispatcher Dispatcher
	// AsyncDispatch dispatches from a bounded queue, in the background
	// (dispatcher.Async), instead of before CommitChanges returns
	// (dispatcher.Sync).
	AsyncDispatch bool
	// Dispatch sets retries, backoff, the dead-letter hook, the queue size
	// and the workers. Its Key, MarkDispatched and MarkDispatchedBatch are
	// ignored: the store orders dispatch per stream and records what was
	// dispatched (asynchronous dispatch marks the commits a worker
	// dispatched in a row with one MarkDispatchedBatch).
	Dispatch DispatchOptions
	// RedispatchEvery is how often a store with a Dispatcher calls
	// Redispatch, so that a dead-lettered commit is dispatched again once
	// the dispatcher works, without a restart. Zero:
	// DefaultRedispatchEvery (a minute). Negative: never.
	RedispatchEvery time.Duration
	// Logger receives what the store cannot report to a caller (a commit
	// that could not be scheduled for dispatch). Nil: discard.
	Logger *slog.Logger
}

// New returns a Store over engine, which must already be initialized. Most
// programs use [Wireup] instead, which opens and initializes the engine,
// builds the serializer and the dispatcher, and dispatches what an earlier
// run left undispatched.
func New(engine *persistence.Engine, opts Options) *Store {
	return newStore(engine, opts, false)
}

// newStore is New; with catchUp, the store starts by dispatching what the
// engine holds as undispatched, in the background (Wireup's Build).
func newStore(engine *persistence.Engine, opts Options, catchUp bool) *Store {
	s := &Store{engine: engine, ser: opts.Serializer, hooks: opts.Hooks, logger: opts.Logger}
	if s.ser == nil {
		s.ser = NewJSONSerializer(nil)
	}
	s.cm, _ = s.ser.(commitMarshaler)
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.def = Bucket{store: s, id: DefaultBucket}
	if opts.Dispatcher != nil {
		s.inflight = &inflight{m: make(map[int64]struct{})}
		o := s.dispatchOptions(opts.Dispatch)
		d := dispatcher.Func[*Commit](func(ctx context.Context, c *Commit) error { return opts.Dispatcher.Dispatch(ctx, *c) })
		if opts.AsyncDispatch {
			s.setScheduler(dispatcher.NewAsync(d, o))
		} else {
			s.setScheduler(dispatcher.NewSync(d, o))
		}
		s.bg.limit = opts.Dispatch.QueueSize
		if s.bg.limit <= 0 {
			s.bg.limit = dispatcher.DefaultQueueSize
		}
	}
	every := opts.RedispatchEvery
	if every == 0 {
		every = DefaultRedispatchEvery
	}
	s.startBackground(catchUp, every)
	return s
}

// Engine returns the storage engine, for what the store does not offer
// (Drop, say). Writing through it bypasses hooks, serialization and
// dispatch.
func (s *Store) Engine() *persistence.Engine { return s.engine }

// Bucket returns the bucket named name: a separate namespace of streams (a
// tenant, a partition). An invalid name is reported by the bucket's methods.
func (s *Store) Bucket(name string) *Bucket {
	if name == DefaultBucket {
		return &s.def
	}
	return &Bucket{store: s, id: name}
}

// CreateStream returns a new, empty stream in the default bucket without
// reading storage. If the stream exists already, its first commit fails with
// ErrConcurrency (and the stream refreshes itself). See Bucket.CreateStream.
func (s *Store) CreateStream(streamID string) (*Stream, error) {
	return s.def.CreateStream(streamID)
}

// OpenStream reads a stream of the default bucket. See Bucket.OpenStream.
func (s *Store) OpenStream(ctx context.Context, streamID string, minRevision, maxRevision int) (*Stream, error) {
	return s.def.OpenStream(ctx, streamID, minRevision, maxRevision)
}

// OpenStreamFromSnapshot reads the stream of snap (in snap.BucketID, the
// default bucket if empty) from just after the snapshot's revision. See
// Bucket.OpenStreamFromSnapshot.
func (s *Store) OpenStreamFromSnapshot(ctx context.Context, snap Snapshot, maxRevision int) (*Stream, error) {
	return s.bucketOf(snap.BucketID).OpenStreamFromSnapshot(ctx, snap, maxRevision)
}

// Commits yields the commits of every bucket whose checkpoint is greater
// than after, in checkpoint order, through the select hooks. Keep the last
// checkpoint you processed and read again from it to see only what is new:
// no commit is missed or seen twice. Use 0 to read from the start.
func (s *Store) Commits(ctx context.Context, after int64) iter.Seq2[Commit, error] {
	return s.readCommits(ctx, "read all", "", s.engine.ReadAll(ctx, after))
}

// AddSnapshot stores snap in snap.BucketID (the default bucket if empty).
// See Bucket.AddSnapshot.
func (s *Store) AddSnapshot(ctx context.Context, snap Snapshot) error {
	return s.bucketOf(snap.BucketID).AddSnapshot(ctx, snap)
}

// LatestSnapshot returns the latest snapshot of a stream of the default
// bucket at or below maxRevision. See Bucket.LatestSnapshot.
func (s *Store) LatestSnapshot(ctx context.Context, streamID string, maxRevision int) (Snapshot, error) {
	return s.def.LatestSnapshot(ctx, streamID, maxRevision)
}

// StreamsToSnapshot yields the heads of the default bucket's streams that
// are at least threshold events past their latest snapshot.
func (s *Store) StreamsToSnapshot(ctx context.Context, threshold int) iter.Seq2[StreamHead, error] {
	return s.def.StreamsToSnapshot(ctx, threshold)
}

// DeleteStream removes a stream of the default bucket, its commits and
// snapshots, then calls the OnDeleteStream hooks. See Bucket.DeleteStream.
func (s *Store) DeleteStream(ctx context.Context, streamID string) error {
	return s.def.DeleteStream(ctx, streamID)
}

// Purge removes every commit and snapshot of every bucket, then calls the
// OnPurge hooks with an empty bucket ID. Storage stays usable.
func (s *Store) Purge(ctx context.Context) error {
	if err := s.usable("purge", ""); err != nil {
		return err
	}
	if err := s.engine.Purge(ctx); err != nil {
		return err
	}
	s.hooks.onPurge(ctx, "")
	return nil
}

// Close stops accepting work, waits for Build's catch-up on what an
// earlier run left undispatched to schedule the rest, and for the
// dispatcher to deliver what is queued (both until ctx is done: whatever
// is left stays undispatched and is dispatched at the next start), then
// closes the engine. Later calls fail
// with ErrClosed. Closing twice is not an error.
func (s *Store) Close(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	var errs []error
	s.bg.drain(ctx) // Build's catch-up, then no further commit from the background
	if s.sched != nil {
		err := s.sched.Close(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		s.bg.wait(ctx, err == nil)
	}
	if err := s.engine.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Store) bucketOf(id string) *Bucket {
	if id == "" {
		return &s.def
	}
	return s.Bucket(id)
}

// usable reports ErrClosed after Close.
func (s *Store) usable(op, bucketID string) error {
	if s.closed.Load() {
		if bucketID == "" {
			return fmt.Errorf("eventstore: %s: %w", op, ErrClosed)
		}
		return &StreamError{Op: op, BucketID: bucketID, Err: ErrClosed}
	}
	return nil
}
