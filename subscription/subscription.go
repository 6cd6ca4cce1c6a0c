package subscription

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
)

// Subscription reads a store's commits in checkpoint order and hands them to
// a Handler, catching up from a checkpoint and then following new commits.
// Make one with New and start it with Run. Its Position and Progress
// methods are safe to call from other goroutines while it runs.
type Subscription struct {
	store   *eventstore.Store
	handler Handler
	opts    Options
	only    map[string]bool // the buckets read with Store.Commits; nil: all

	running  atomic.Bool
	pos      atomic.Int64
	mu       sync.Mutex
	progress Progress
}

// HandlerError is what Run returns when it stops on a handler error: the
// commit the handler did not finish, and the handler's error.
type HandlerError struct {
	Commit eventstore.Commit // the first commit the handler did not finish
	Err    error
}

// Error names the commit and the cause.
func (e *HandlerError) Error() string {
	c := e.Commit
	return fmt.Sprintf("subscription: handler failed at checkpoint %d (bucket %q stream %q commit sequence %d commit %s): %v",
		c.Checkpoint, c.BucketID, c.StreamID, c.CommitSequence, c.CommitID, e.Err)
}

// Unwrap returns the handler's error.
func (e *HandlerError) Unwrap() error { return e.Err }

// ErrRunning is returned by Run when the subscription is running already.
var ErrRunning = errors.New("subscription: already running")

// New returns a subscription of store's commits for h. It reports invalid
// options as a *eventstore.ValidationError.
func New(store *eventstore.Store, h Handler, opts Options) (*Subscription, error) {
	if store == nil {
		return nil, &eventstore.ValidationError{Field: "store", Reason: "must not be nil"}
	}
	if h == nil {
		return nil, &eventstore.ValidationError{Field: "handler", Reason: "must not be nil"}
	}
	if err := opts.fill(); err != nil {
		return nil, err
	}
	s := &Subscription{store: store, handler: h, opts: opts}
	if len(opts.Buckets) > 1 {
		s.only = map[string]bool{}
		for _, b := range opts.Buckets {
			s.only[b] = true
		}
	}
	return s, nil
}

// Position returns the checkpoint of the last commit the handler finished
// (or the starting checkpoint, before it finished any).
func (s *Subscription) Position() int64 { return s.pos.Load() }

// Progress returns the latest progress report.
func (s *Subscription) Progress() Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progress
}

// Run hands the commits after checkpoint from to the handler, page by page,
// and goes on with new commits until ctx is done (it then returns
// ctx.Err()), the handler fails and is not retried (a *HandlerError), or
// the storage fails permanently. See the package documentation.
func (s *Subscription) Run(ctx context.Context, from int64) error {
	if from < 0 {
		return &eventstore.ValidationError{Field: "from", Value: from, Reason: "must not be negative"}
	}
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	s.pos.Store(from)
	r := run{Subscription: s, pos: from}
	failures := 0
	for {
		var woken <-chan struct{} // nil: never
		if !s.opts.NoWake {
			woken = s.store.Engine().Committed() // before reading: a commit after it wakes us
		}
		err := r.catchUp(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if !transient(err) {
				return err
			}
			failures++
			d := backoff(s.opts.MinBackoff, s.opts.MaxBackoff, failures)
			s.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "subscription: reading commits failed; retrying",
				slog.Int64("position", r.pos), slog.Int("failures", failures), slog.Duration("wait", d), slog.Any("error", err))
			if !sleep(ctx, nil, d) {
				return ctx.Err()
			}
			continue
		}
		failures = 0
		if !sleep(ctx, woken, s.opts.Poll) && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// transient reports whether a read error is worth retrying.
func transient(err error) bool {
	for _, permanent := range []error{eventstore.ErrPermissionDenied, eventstore.ErrNotInitialized,
		eventstore.ErrMisconfigured, eventstore.ErrClosed, eventstore.ErrInvalid, eventstore.ErrCorrupt} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	var he *HandlerError
	return !errors.As(err, &he)
}

// run is the state of one Run.
type run struct {
	*Subscription
	pos   int64     // last checkpoint finished (or skipped)
	stamp time.Time // commit stamp of the last commit finished
	head  int64     // the store's head as last read
}

// source returns the commits after pos that the subscription reads.
func (r *run) source(ctx context.Context) iter.Seq2[eventstore.Commit, error] {
	if len(r.opts.Buckets) == 1 {
		return r.store.Bucket(r.opts.Buckets[0]).Commits(ctx, r.pos)
	}
	return r.store.Commits(ctx, r.pos)
}

// catchUp reads from r.pos to the end of what is visible, handing pages to
// the handler. It returns nil once caught up.
func (r *run) catchUp(ctx context.Context) error {
	if err := r.readHead(ctx); err != nil {
		return err
	}
	page := make([]eventstore.Commit, 0, r.opts.PageSize)
	var upTo int64 // checkpoint of the last commit read into page, or skipped after it
	for c, err := range r.source(ctx) {
		if err != nil {
			if ferr := r.flush(ctx, page, upTo); ferr != nil {
				return ferr
			}
			var corrupt *eventstore.CorruptCommitError
			if errors.As(err, &corrupt) && r.opts.OnCorrupt != nil {
				if herr := r.opts.OnCorrupt(ctx, corrupt); herr != nil {
					return herr
				}
				r.advance(corrupt.Checkpoint, time.Time{})
				return r.catchUp(ctx) // read on past it
			}
			return err
		}
		upTo = c.Checkpoint
		if r.only != nil && !r.only[c.BucketID] {
			continue
		}
		page = append(page, c)
		if len(page) == r.opts.PageSize {
			if err := r.flush(ctx, page, upTo); err != nil {
				return err
			}
			page = page[:0]
		}
	}
	if err := r.flush(ctx, page, upTo); err != nil {
		return err
	}
	r.report(true)
	return nil
}

// flush hands page to the handler until it finished all of it, retrying as
// Options.Retry says, and moves the position to upTo.
func (r *run) flush(ctx context.Context, page []eventstore.Commit, upTo int64) error {
	attempt := 0
	for len(page) > 0 {
		n, err := r.handler(ctx, page)
		if n < 0 || n > len(page) {
			return fmt.Errorf("subscription: handler returned n = %d for a page of %d commits", n, len(page))
		}
		if n == len(page) {
			break // finished: an error beside it is moot
		}
		if n > 0 {
			attempt = 0
			r.advance(page[n-1].Checkpoint, page[n-1].CommitStamp)
			page = page[n:]
		}
		if err == nil {
			err = fmt.Errorf("handler finished %d of %d commits and returned no error", n, n+len(page))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		attempt++
		herr := &HandlerError{Commit: page[0], Err: err}
		if r.opts.Retry == nil || !r.opts.Retry(err, attempt) {
			return herr
		}
		d := backoff(r.opts.MinBackoff, r.opts.MaxBackoff, attempt)
		r.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "subscription: handler failed; retrying",
			slog.Int64("checkpoint", page[0].Checkpoint), slog.Int("attempt", attempt), slog.Duration("wait", d), slog.Any("error", err))
		if !sleep(ctx, nil, d) {
			return ctx.Err()
		}
	}
	if upTo > r.pos {
		var stamp time.Time
		if len(page) > 0 {
			stamp = page[len(page)-1].CommitStamp
		}
		r.advance(upTo, stamp)
	}
	return nil
}

// advance records that everything up to cp is finished, and reports it.
func (r *run) advance(cp int64, stamp time.Time) {
	r.pos = cp
	if !stamp.IsZero() {
		r.stamp = stamp
	}
	r.Subscription.pos.Store(cp)
	r.head = max(r.head, cp)
	r.report(false)
}

// readHead reads the store's head, for lag reports.
func (r *run) readHead(ctx context.Context) error {
	e := r.store.Engine()
	if !e.Supports(persistence.Head) {
		return nil // reading every commit to find it would cost more than the subscription
	}
	h, err := e.Head(ctx)
	if err != nil {
		return err
	}
	r.head = max(r.head, h)
	return nil
}

// report publishes the progress; caughtUp says the subscription read
// everything visible.
func (r *run) report(caughtUp bool) {
	p := Progress{Position: r.pos, Head: max(r.head, r.pos), Stamp: r.stamp, CaughtUp: caughtUp}
	if !caughtUp {
		p.Behind = p.Head - p.Position
		if p.Behind > 0 && !r.stamp.IsZero() {
			p.Delay = max(time.Since(r.stamp), 0)
		}
	}
	r.mu.Lock()
	r.progress = p
	r.mu.Unlock()
	if r.opts.OnProgress != nil {
		r.opts.OnProgress(p)
	}
}

// backoff returns a random wait in [0, min(initial*2^(attempt-1), limit)].
func backoff(initial, limit time.Duration, attempt int) time.Duration {
	d := initial
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// sleep waits d, or until ctx is done or wake is closed; it reports whether
// it was not ended by ctx.
func sleep(ctx context.Context, wake <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-wake:
		return true
	case <-ctx.Done():
		return false
	}
}
