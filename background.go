package eventstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// background is the redispatch a store with a scheduler runs in the
// background: at start (Build's), the catch-up on what an earlier run left
// undispatched, then the periodic sweep.
//
// While the store catches up, the commits it stores are not scheduled: they
// wait (in memory, and as undispatched in storage) until the catch-up has
// scheduled every older undispatched commit, so that each stream's commits
// still reach the dispatcher in order. The catch-up skips them (they are in
// flight), then schedules them, in the order the orderer handed them over.
type background struct {
	catching atomic.Bool   // set while catching up: new commits are deferred
	mu       sync.Mutex    // guards deferred, and the switch from catching up
	deferred []*Commit     // commits stored while catching up, in order per stream
	limit    int           // how many may wait in deferred (the queue size)
	room     chan struct{} // closed when deferred empties or the catch-up ends
	stopped  bool          // the catch-up was stopped: defer no more

	passes chan struct{} // one redispatch pass at a time (catch-up, sweep, Redispatch)

	caught chan struct{}      // closed when the catch-up is over (at once without one)
	stop   context.CancelFunc // stops the goroutine between commits; nil if none runs
	abort  context.CancelFunc // cancels a Schedule in progress (Close gave up)
	done   chan struct{}      // closed when the goroutine returns
	sched  context.Context    // the context Schedule gets: cancelled by abort
}

// Progress of the catch-up is logged every progressEvery commits, and at
// least every progressInterval while it runs.
const (
	progressEvery    = 1000
	progressInterval = 10 * time.Second
)

// retryCatchUp bounds the wait between failed catch-up passes.
const retryCatchUp = 30 * time.Second

// startBackground starts the background redispatch: the catch-up on what
// an earlier run left undispatched first if catchUp is set, then a sweep
// every every (none if every is not positive). Without a scheduler, or if
// the engine does not track dispatch, it does nothing.
func (s *Store) startBackground(catchUp bool, every time.Duration) {
	bg := &s.bg
	bg.passes = make(chan struct{}, 1)
	if s.sched == nil || !s.engine.Supports(persistence.Dispatch) || (!catchUp && every <= 0) {
		return
	}
	if catchUp {
		bg.room = make(chan struct{})
		bg.catching.Store(true)
	}
	ctx, stop := context.WithCancel(context.Background())
	bg.sched, bg.abort = context.WithCancel(context.Background())
	bg.stop, bg.done, bg.caught = stop, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(bg.done)
		ok := !catchUp || s.catchUp(ctx)
		close(bg.caught)
		if !ok {
			return
		}
		if every <= 0 {
			return
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := s.pass(ctx, bg.sched, time.Now().Add(-every), nil)
			if err != nil && ctx.Err() == nil {
				s.logger.LogAttrs(ctx, slog.LevelWarn, "eventstore: periodic redispatch failed; will try again",
					slog.Int("scheduled", n), slog.Any("error", err))
			} else if n > 0 {
				s.logger.LogAttrs(ctx, slog.LevelInfo, "eventstore: redispatched undispatched commits", slog.Int("scheduled", n))
			}
		}
	}()
}

// catchUp schedules every commit the engine holds as undispatched, in
// checkpoint order, retrying a failed pass, and then the commits stored
// meanwhile. It reports false if it was stopped first (by Close); the
// deferred commits then stay undispatched, for the next start.
func (s *Store) catchUp(ctx context.Context) bool {
	start := time.Now()
	s.logger.LogAttrs(ctx, slog.LevelInfo, "eventstore: dispatching the commits an earlier run left undispatched, in the background")
	total, last := 0, time.Now()
	progress := func(c *Commit) {
		total++
		if total%progressEvery == 0 || time.Since(last) >= progressInterval {
			last = time.Now()
			s.logger.LogAttrs(ctx, slog.LevelInfo, "eventstore: redispatch at start: progress",
				slog.Int("scheduled", total), slog.Int64("checkpoint", c.Checkpoint),
				slog.Duration("elapsed", time.Since(start)))
		}
	}
	wait := time.Second
	for {
		_, err := s.pass(ctx, s.bg.sched, time.Time{}, progress)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return s.stopCatchUp(ctx, total)
		}
		s.logger.LogAttrs(ctx, slog.LevelWarn, "eventstore: redispatch at start failed; will try again",
			slog.Int("scheduled", total), slog.Duration("retry_in", wait), slog.Any("error", err))
		select {
		case <-ctx.Done():
			return s.stopCatchUp(ctx, total)
		case <-time.After(wait):
		}
		wait = min(2*wait, retryCatchUp)
	}
	// Then the commits stored meanwhile, in rounds: the lock is not held
	// while scheduling (a dispatcher may commit to the store), so commits
	// stored during a round are deferred to the next one, which keeps
	// each stream's order; the last, empty round switches to scheduling at
	// once.
	bg := &s.bg
	meanwhile := 0
	for {
		bg.mu.Lock()
		batch := bg.deferred
		bg.deferred = nil
		close(bg.room) // writers waiting for room
		bg.room = make(chan struct{})
		if ctx.Err() != nil {
			bg.deferred = batch // left for the next start
			bg.mu.Unlock()
			return s.stopCatchUp(ctx, total)
		}
		if len(batch) == 0 {
			bg.catching.Store(false)
			close(bg.room)
			bg.mu.Unlock()
			break
		}
		bg.mu.Unlock()
		for i, c := range batch {
			batch[i] = nil
			if ctx.Err() != nil {
				s.inflight.remove(c.Checkpoint) // left for the next start
				continue
			}
			s.scheduleNow(bg.sched, c)
			meanwhile++
		}
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, "eventstore: redispatch at start done",
		slog.Int("scheduled", total), slog.Int("stored_meanwhile", meanwhile),
		slog.Duration("elapsed", time.Since(start)))
	return true
}

// stopCatchUp logs that the catch-up was stopped, and reports false.
func (s *Store) stopCatchUp(ctx context.Context, scheduled int) bool {
	s.bg.mu.Lock()
	left := len(s.bg.deferred)
	s.bg.stopped = true
	close(s.bg.room) // commits waiting for room give up
	s.bg.mu.Unlock()
	s.logger.LogAttrs(ctx, slog.LevelInfo, "eventstore: redispatch at start stopped by Close; the rest stays undispatched for the next start",
		slog.Int("scheduled", scheduled), slog.Int("stored_meanwhile", left))
	return false
}

// deferCommit keeps c for the end of the catch-up, and reports whether it
// did (false: the store is not catching up, schedule c now). While limit
// commits wait already, it waits for room (as a full queue makes
// CommitChanges wait) until ctx is done, and then fails: c stays
// undispatched.
func (bg *background) deferCommit(ctx context.Context, c *Commit) (bool, error) {
	for {
		if !bg.catching.Load() {
			return false, nil
		}
		bg.mu.Lock()
		if !bg.catching.Load() {
			bg.mu.Unlock()
			return false, nil
		}
		if bg.stopped {
			bg.mu.Unlock()
			return true, errCatchUpStopped
		}
		if len(bg.deferred) < bg.limit {
			bg.deferred = append(bg.deferred, c)
			bg.mu.Unlock()
			return true, nil
		}
		room := bg.room
		bg.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return true, fmt.Errorf("eventstore: waiting for the redispatch at start to make room: %w", ctx.Err())
		}
	}
}

// errCatchUpStopped is what a commit stored after Close stopped the
// catch-up gets: it stays undispatched, for the next start.
var errCatchUpStopped = fmt.Errorf("eventstore: the redispatch at start was stopped by Close: %w", ErrClosed)

// caughtUp waits (until ctx is done) for the catch-up to end.
func (bg *background) caughtUp(ctx context.Context) error {
	if bg.caught == nil {
		return nil
	}
	select {
	case <-bg.caught:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// acquire waits for its turn to run a redispatch pass.
func (bg *background) acquire(ctx context.Context) error {
	select {
	case bg.passes <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (bg *background) release() { <-bg.passes }

// drain waits (until ctx is done) for the catch-up to schedule what it has
// left, then stops the background goroutine: no further commit is
// scheduled by it. Call wait after closing the scheduler.
func (bg *background) drain(ctx context.Context) {
	if bg.stop == nil {
		return
	}
	select {
	case <-bg.caught:
	case <-ctx.Done():
	}
	bg.stop()
}

// wait waits (until ctx is done) for the background goroutine to return,
// cancelling a Schedule call it is still in if the scheduler did not drain.
func (bg *background) wait(ctx context.Context, drained bool) {
	if bg.done == nil {
		return
	}
	if !drained {
		bg.abort()
	}
	select {
	case <-bg.done:
	case <-ctx.Done():
		bg.abort()
	}
}
