package eventstore

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/goeventstore/eventstore/dispatcher"
	"github.com/goeventstore/eventstore/persistence"
)

// Dispatcher publishes stored commits to the rest of the application (a
// message bus, projections). Dispatch returns nil once the commit is safely
// handed over; an error makes the store retry it. Delivery is at least
// once, in commit order per stream: consumers must be idempotent (the
// commit ID identifies a commit). See package dispatcher.
type Dispatcher = dispatcher.Dispatcher[Commit]

// DispatcherFunc turns a function into a Dispatcher.
type DispatcherFunc = dispatcher.Func[Commit]

// DispatchOptions configure dispatch: retries, backoff, dead letters,
// queue and workers. See dispatcher.Options.
type DispatchOptions = dispatcher.Options[Commit]

// commitScheduler is the scheduler as the store drives it: commits go by
// pointer, so that a queue moves a word per commit rather than a copy of
// it. The commit is the one CommitChanges returns; nobody writes to it.
type commitScheduler = dispatcher.Scheduler[*Commit]

// setScheduler makes the store hand its commits to sched, in order per
// stream, queueing them under the orderer's lock if sched can do so without
// blocking.
func (s *Store) setScheduler(sched commitScheduler) {
	s.sched = sched
	var try func(*Commit) bool
	if ts, ok := sched.(dispatcher.TryScheduler[*Commit]); ok {
		try = func(c *Commit) bool { return !s.bg.catching.Load() && ts.TrySchedule(c) }
	}
	s.order = newOrderer(s.schedule, try)
}

// schedule hands a stored commit to the dispatcher, or, while the store
// catches up on what an earlier run left undispatched, keeps it for the end
// of the catch-up.
func (s *Store) schedule(ctx context.Context, c *Commit) {
	if s.sched == nil {
		return
	}
	deferred, err := s.bg.deferCommit(ctx, c)
	if err != nil {
		s.notScheduled(ctx, c, err)
	}
	if !deferred {
		s.scheduleNow(ctx, c)
	}
}

// scheduleNow hands a stored commit to the dispatcher. A failure (the
// context is done, the store is closing) is only logged: the commit is
// stored and stays undispatched, for the next redispatch sweep or start.
func (s *Store) scheduleNow(ctx context.Context, c *Commit) {
	if err := s.sched.Schedule(ctx, c); err != nil {
		s.notScheduled(ctx, c, err)
	}
}

// notScheduled logs that c, stored, could not be scheduled for dispatch.
func (s *Store) notScheduled(ctx context.Context, c *Commit, err error) {
	s.inflight.remove(c.Checkpoint) // for the next sweep
	s.logger.LogAttrs(ctx, slog.LevelWarn, "eventstore: commit stored but not scheduled for dispatch; the next redispatch sweep (or start) will dispatch it",
		slog.String("bucket", c.BucketID), slog.String("stream", c.StreamID),
		slog.Int("revision", c.StreamRevision), slog.String("commit", c.CommitID.String()),
		slog.Any("error", err))
}

// dispatchKey orders dispatch per stream.
func dispatchKey(c *Commit) string { return c.BucketID + "\x00" + c.StreamID }

// markDispatched records in the engine that c was dispatched, and that it
// is no longer in flight.
func (s *Store) markDispatched(ctx context.Context, c *Commit) error {
	defer s.inflight.remove(c.Checkpoint)
	return s.engine.MarkDispatched(ctx, storedForm(c))
}

// markDispatchedBatch is markDispatched for the commits an asynchronous
// worker dispatched in a row: one engine call, which an engine that marks
// many commits at once (MySQL, Mongo) makes one round trip.
func (s *Store) markDispatchedBatch(ctx context.Context, cs []*Commit) error {
	pcs := make([]persistence.Commit, len(cs))
	for i, c := range cs {
		pcs[i] = storedForm(c)
	}
	defer func() {
		for _, c := range cs {
			s.inflight.remove(c.Checkpoint)
		}
	}()
	return s.engine.MarkDispatchedBatch(ctx, pcs)
}

// storedForm is what the engine needs of c to mark it: its coordinates,
// not its payload.
func storedForm(c *Commit) persistence.Commit {
	return persistence.Commit{
		CommitAttempt: persistence.CommitAttempt{
			BucketID:       c.BucketID,
			StreamID:       c.StreamID,
			StreamRevision: c.StreamRevision,
			CommitID:       c.CommitID,
			CommitSequence: c.CommitSequence,
			CommitStamp:    c.CommitStamp,
			EventCount:     len(c.Events),
		},
		Checkpoint: c.Checkpoint,
	}
}

// dispatchOptions returns the options of the store's scheduler: opts's
// retries, backoff, queue, workers and dead-letter hook, the per-stream
// ordering key, and a MarkDispatched (and, for asynchronous dispatch,
// MarkDispatchedBatch) that records dispatched commits.
func (s *Store) dispatchOptions(opts DispatchOptions) dispatcher.Options[*Commit] {
	o := dispatcher.Options[*Commit]{
		Key:                 dispatchKey,
		MarkDispatched:      s.markDispatched,
		MarkDispatchedBatch: s.markDispatchedBatch,
		MaxAttempts:         opts.MaxAttempts,
		InitialBackoff:      opts.InitialBackoff,
		MaxBackoff:          opts.MaxBackoff,
		QueueSize:           opts.QueueSize,
		Workers:             opts.Workers,
		Logger:              opts.Logger,
	}
	if o.Logger == nil {
		o.Logger = s.logger
	}
	dl := opts.DeadLetter
	o.DeadLetter = func(ctx context.Context, c *Commit, err error) {
		s.inflight.remove(c.Checkpoint)
		if dl != nil {
			dl(ctx, *c, err)
		}
	}
	return o
}

// DefaultRedispatchEvery is how often a store with a scheduler looks for
// undispatched commits (dead-lettered ones, say) and dispatches them again,
// unless Options.RedispatchEvery or Wireup's RedispatchEvery says otherwise.
const DefaultRedispatchEvery = time.Minute

// Redispatch hands to the store's scheduler every commit the engine holds
// as undispatched that this store is not dispatching at the moment: those
// dead-lettered, those it could not schedule, those an earlier run (or
// another process) stored and did not get dispatched. Commits a select hook
// filters out are marked dispatched without being dispatched. It returns
// how many commits it scheduled; without a scheduler it does nothing.
//
// Wireup's Build starts it in the background, so that a long backlog does
// not hold up the start (progress goes to the logger, see
// Builder.LogTo); meanwhile the store's new commits wait until the older
// ones are scheduled, keeping each stream's order. Every store with a
// scheduler also sweeps every Options.RedispatchEvery, redispatching only
// the commits stamped at least one interval earlier, so that it leaves
// alone the commits other processes writing to the same storage are still
// dispatching (a store knows only its own). A store made with New does not
// redispatch at start: call Redispatch after New to dispatch at once what
// an earlier run left. A dead-lettered commit redispatched after later
// commits of its stream were dispatched reaches the dispatcher after them.
//
// One redispatch runs at a time: Redispatch first waits (until ctx is done)
// for one in progress, Build's included, so that once it returns with a
// synchronous scheduler everything undispatched when it was called has been
// dispatched (or dead-lettered).
func (s *Store) Redispatch(ctx context.Context) (int, error) {
	if err := s.usable("redispatch", ""); err != nil {
		return 0, err
	}
	if s.sched == nil {
		return 0, nil
	}
	if err := s.bg.caughtUp(ctx); err != nil {
		return 0, err
	}
	return s.pass(ctx, ctx, time.Time{}, nil)
}

// inflight is the set of the checkpoints of commits a store handed to its
// scheduler and that were neither marked dispatched nor dead-lettered yet:
// what a sweep must not dispatch again. Each store has its own.
//
// While a redispatch pass runs, the checkpoints removed from the set are
// also kept in gone: a commit marked dispatched after the pass read its
// page, and then removed, is no longer in flight but must not be
// dispatched again.
type inflight struct {
	mu       sync.Mutex
	m        map[int64]struct{}
	watchers int                // passes running
	gone     map[int64]struct{} // removed while a pass runs
	pruneAt  int                // size of gone at which left prunes it
}

func (f *inflight) add(cp int64) {
	f.mu.Lock()
	f.m[cp] = struct{}{}
	f.mu.Unlock()
}

func (f *inflight) remove(cp int64) {
	f.mu.Lock()
	delete(f.m, cp)
	if f.watchers > 0 {
		f.gone[cp] = struct{}{}
	}
	f.mu.Unlock()
}

func (f *inflight) has(cp int64) bool {
	f.mu.Lock()
	_, ok := f.m[cp]
	f.mu.Unlock()
	return ok
}

// watch starts keeping the checkpoints removed, for a pass; unwatch ends it.
func (f *inflight) watch() {
	f.mu.Lock()
	if f.watchers == 0 {
		f.gone, f.pruneAt = make(map[int64]struct{}), 4096
	}
	f.watchers++
	f.mu.Unlock()
}

func (f *inflight) unwatch() {
	f.mu.Lock()
	if f.watchers--; f.watchers == 0 {
		f.gone = nil
	}
	f.mu.Unlock()
}

// left reports whether cp was removed since watch, and forgets the
// checkpoints below cp once there are many: a pass reads in checkpoint
// order, and does not come back to them.
func (f *inflight) left(cp int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.gone[cp]
	if len(f.gone) > f.pruneAt {
		for k := range f.gone {
			if k < cp {
				delete(f.gone, k)
			}
		}
		f.pruneAt = max(4096, 2*len(f.gone)) // amortized: what is left is ahead of the pass
	}
	return ok
}

// busy reports whether this store is dispatching pc: an attempt for it is
// in progress (it may be stored and not yet handed over), or it was handed
// over and is neither marked nor dead-lettered, or it was during the
// current pass. The orderer is asked first:
// an attempt records its checkpoint as in flight before it ends.
func (s *Store) busy(pc *persistence.Commit) bool {
	if s.order != nil && s.order.pending(streamKey{pc.BucketID, pc.StreamID}, pc.CommitSequence) {
		return true
	}
	return s.inflight.has(pc.Checkpoint) || s.inflight.left(pc.Checkpoint)
}

// pass is one redispatch: it hands to the scheduler (with schedCtx) every
// commit the engine holds as undispatched that this store is not
// dispatching (see busy) and that was stamped before olderThan (if not
// zero), in checkpoint order, calling progress after each. Commits a select
// hook filters out are marked dispatched without being dispatched. ctx
// bounds the pass: it stops between commits once ctx is done.
func (s *Store) pass(ctx, schedCtx context.Context, olderThan time.Time, progress func(*Commit)) (int, error) {
	if err := s.bg.acquire(ctx); err != nil {
		return 0, err
	}
	defer s.bg.release()
	s.inflight.watch()
	defer s.inflight.unwatch()
	n := 0
	for pc, err := range s.engine.Undispatched(ctx) {
		if err != nil {
			return n, err
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if !olderThan.IsZero() && !pc.CommitStamp.Before(olderThan) {
			continue
		}
		if s.busy(&pc) {
			continue
		}
		c, keep, err := s.selectCommit(ctx, &pc, false)
		if errors.Is(err, ErrCorrupt) {
			// It cannot be dispatched; it stays undispatched, and the rest
			// still goes out.
			s.logger.ErrorContext(ctx, "eventstore: undispatched commit cannot be decoded; left undispatched", "err", err)
			continue
		}
		if err != nil {
			return n, err
		}
		if !keep {
			if err := s.engine.MarkDispatched(ctx, pc); err != nil {
				return n, err
			}
			continue
		}
		s.inflight.add(c.Checkpoint)
		if err := s.sched.Schedule(schedCtx, &c); err != nil {
			s.inflight.remove(c.Checkpoint)
			return n, err
		}
		n++
		if progress != nil {
			progress(&c)
		}
	}
	return n, nil
}
