package eventstore

import (
	"context"
	"errors"
	"log/slog"

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

// Scheduler decides when a Dispatcher runs: synchronously, before
// CommitChanges returns, or asynchronously from a queue. See package
// dispatcher.
type Scheduler = dispatcher.Scheduler[Commit]

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
		try = ts.TrySchedule
	}
	s.order = newOrderer(s.schedule, try)
}

// schedule hands a stored commit to the dispatcher. A failure (the context
// is done, the store is closing) is only logged: the commit is stored and
// stays undispatched, to be dispatched at the next start.
func (s *Store) schedule(ctx context.Context, c *Commit) {
	if s.sched == nil {
		return
	}
	if err := s.sched.Schedule(ctx, c); err != nil {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "eventstore: commit stored but not scheduled for dispatch; it will be dispatched at the next start",
			slog.String("bucket", c.BucketID), slog.String("stream", c.StreamID),
			slog.Int("revision", c.StreamRevision), slog.String("commit", c.CommitID.String()),
			slog.Any("error", err))
	}
}

// dispatchKey orders dispatch per stream.
func dispatchKey(c *Commit) string { return c.BucketID + "\x00" + c.StreamID }

// markDispatched records in engine that c was dispatched.
func markDispatched(ctx context.Context, engine *persistence.Engine, c *Commit) error {
	return engine.MarkDispatched(ctx, persistence.Commit{
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
	})
}

// DispatchOptionsFor returns opts completed with what a store's scheduler
// needs: the per-stream ordering key, and a MarkDispatched that records a
// dispatched commit in engine. Use it to build the Scheduler you pass to
// New:
//
//	sched := dispatcher.NewAsync(d, eventstore.DispatchOptionsFor(engine, opts))
//	store := eventstore.New(engine, eventstore.Options{Scheduler: sched})
func DispatchOptionsFor(engine *persistence.Engine, opts DispatchOptions) DispatchOptions {
	opts.Key = func(c Commit) string { return dispatchKey(&c) }
	opts.MarkDispatched = func(ctx context.Context, c Commit) error { return markDispatched(ctx, engine, &c) }
	return opts
}

// commitOptions is DispatchOptionsFor for the schedulers Wireup builds,
// which take commits by pointer (see commitScheduler).
func commitOptions(engine *persistence.Engine, opts DispatchOptions) dispatcher.Options[*Commit] {
	o := dispatcher.Options[*Commit]{
		Key:            dispatchKey,
		MarkDispatched: func(ctx context.Context, c *Commit) error { return markDispatched(ctx, engine, c) },
		MaxAttempts:    opts.MaxAttempts,
		InitialBackoff: opts.InitialBackoff,
		MaxBackoff:     opts.MaxBackoff,
		QueueSize:      opts.QueueSize,
		Workers:        opts.Workers,
		Logger:         opts.Logger,
	}
	if dl := opts.DeadLetter; dl != nil {
		o.DeadLetter = func(ctx context.Context, c *Commit, err error) { dl(ctx, *c, err) }
	}
	return o
}

// commitDispatcher adapts d to commits by pointer: it dispatches a copy.
func commitDispatcher(d Dispatcher) dispatcher.Dispatcher[*Commit] {
	return dispatcher.Func[*Commit](func(ctx context.Context, c *Commit) error { return d.Dispatch(ctx, *c) })
}

// valueScheduler adapts a Scheduler given in Options, which takes commits
// by value.
type valueScheduler struct{ s Scheduler }

func (v valueScheduler) Schedule(ctx context.Context, c *Commit) error { return v.s.Schedule(ctx, *c) }
func (v valueScheduler) Close(ctx context.Context) error               { return v.s.Close(ctx) }

// valueTryScheduler is valueScheduler for a dispatcher.TryScheduler.
type valueTryScheduler struct {
	valueScheduler
	try dispatcher.TryScheduler[Commit]
}

func (v valueTryScheduler) TrySchedule(c *Commit) bool { return v.try.TrySchedule(*c) }

// byPointer adapts a Scheduler given in Options to commitScheduler.
func byPointer(sched Scheduler) commitScheduler {
	if ts, ok := sched.(dispatcher.TryScheduler[Commit]); ok {
		return valueTryScheduler{valueScheduler{sched}, ts}
	}
	return valueScheduler{sched}
}

// redispatch dispatches, through sched, every commit the engine holds as
// undispatched: those an earlier run stored but did not get dispatched.
// Commits a select hook filters out are marked dispatched without being
// dispatched.
func (s *Store) redispatch(ctx context.Context, sched commitScheduler) error {
	for pc, err := range s.engine.Undispatched(ctx) {
		if err != nil {
			return err
		}
		c, keep, err := s.selectCommit(ctx, &pc, false)
		if errors.Is(err, ErrCorrupt) {
			// It cannot be dispatched; it stays undispatched, and the rest
			// still goes out.
			s.logger.ErrorContext(ctx, "eventstore: undispatched commit cannot be decoded; left undispatched", "err", err)
			continue
		}
		if err != nil {
			return err
		}
		if !keep {
			if err := s.engine.MarkDispatched(ctx, pc); err != nil {
				return err
			}
			continue
		}
		if err := sched.Schedule(ctx, &c); err != nil {
			return err
		}
	}
	return nil
}
