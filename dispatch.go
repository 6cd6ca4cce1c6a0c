package eventstore

import (
	"context"
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

// schedule hands a stored commit to the dispatcher. A failure (the context
// is done, the store is closing) is only logged: the commit is stored and
// stays undispatched, to be dispatched at the next start.
func (s *Store) schedule(ctx context.Context, c Commit) {
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
func dispatchKey(c Commit) string { return c.BucketID + "\x00" + c.StreamID }

// markDispatched records in engine that c was dispatched.
func markDispatched(ctx context.Context, engine persistence.Engine, c Commit) error {
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
func DispatchOptionsFor(engine persistence.Engine, opts DispatchOptions) DispatchOptions {
	opts.Key = dispatchKey
	opts.MarkDispatched = func(ctx context.Context, c Commit) error { return markDispatched(ctx, engine, c) }
	return opts
}

// redispatch dispatches, through sched, every commit the engine holds as
// undispatched: those an earlier run stored but did not get dispatched.
// Commits a select hook filters out are marked dispatched without being
// dispatched.
func (s *Store) redispatch(ctx context.Context, sched Scheduler) error {
	for pc, err := range s.engine.Undispatched(ctx) {
		if err != nil {
			return err
		}
		c, keep, err := s.selectCommit(ctx, &pc, false)
		if err != nil {
			return err
		}
		if !keep {
			if err := s.engine.MarkDispatched(ctx, pc); err != nil {
				return err
			}
			continue
		}
		if err := sched.Schedule(ctx, c); err != nil {
			return err
		}
	}
	return nil
}
