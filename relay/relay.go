package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/subscription"
)

// Options configure a Relay. The zero value is usable: every bucket, one
// topic (DefaultTopic), no checkpoint store (the publisher must then be a
// Resumer).
type Options struct {
	// Buckets restricts the relay to these buckets. Empty: every bucket
	// except CheckpointBucket.
	Buckets []string
	// Topic chooses each commit's topic (subject). Nil: DefaultTopic. See
	// ByBucket.
	Topic func(c *eventstore.Commit) string
	// TypeName names an event body's type in the body and the event types
	// header. Nil: TypeName.
	TypeName func(body any) string
	// CloudEvents adds the CloudEvents attributes as headers (binary
	// content mode), with Source as the source prefix ("eventstore" if
	// empty).
	CloudEvents bool
	Source      string
	// PerEvent publishes one message per event instead of one per commit
	// (see EncodeEvents). The relay still advances per commit: a commit
	// counts as published once all its events are acknowledged.
	PerEvent bool
	// Checkpoints keeps the relay's position (see Checkpoints). Required
	// unless the publisher is a Resumer.
	Checkpoints Checkpoints
	// SaveEvery is how often the position is saved to Checkpoints while the
	// relay advances (and once when it stops). Zero: 5 seconds. A crash
	// loses at most this much progress: those commits are published again.
	SaveEvery time.Duration
	// Read tunes the subscription the relay reads with: PageSize (the most
	// messages per Publish call), Poll, MinBackoff, MaxBackoff, Logger.
	// Its Buckets, Retry, OnCorrupt and OnProgress are the relay's own.
	Read subscription.Options
	// Logger receives what the relay retries. Nil: Read.Logger, or discard.
	Logger *slog.Logger
}

// Relay publishes a store's commits to a broker, in checkpoint order, at
// least once, advancing only past commits the broker acknowledged. Make one
// with New; Run it. See the package documentation.
type Relay struct {
	store *eventstore.Store
	pub   Publisher
	opts  Options
	only  map[string]bool // nil: all but CheckpointBucket

	running   atomic.Bool
	pos       atomic.Int64
	published atomic.Bool // a message was acknowledged since the last save
	mu        sync.Mutex
	sub       *subscription.Subscription
}

// New returns a relay of store's commits to pub. It reports invalid
// options as a *eventstore.ValidationError.
func New(store *eventstore.Store, pub Publisher, opts Options) (*Relay, error) {
	if store == nil {
		return nil, &eventstore.ValidationError{Field: "store", Reason: "must not be nil"}
	}
	if pub == nil {
		return nil, &eventstore.ValidationError{Field: "publisher", Reason: "must not be nil"}
	}
	if _, ok := pub.(Resumer); !ok && opts.Checkpoints == nil {
		return nil, &eventstore.ValidationError{Field: "Checkpoints", Reason: fmt.Sprintf("must be set: the publisher (%T) cannot tell where the broker is (it is no Resumer)", pub)}
	}
	if opts.SaveEvery < 0 {
		return nil, &eventstore.ValidationError{Field: "SaveEvery", Value: opts.SaveEvery.String(), Reason: "must not be negative"}
	}
	if opts.SaveEvery == 0 {
		opts.SaveEvery = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = opts.Read.Logger
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Relay{store: store, pub: pub, opts: opts}
	if len(opts.Buckets) > 0 {
		r.only = map[string]bool{}
		for _, b := range opts.Buckets {
			r.only[b] = true
		}
	}
	// Check the subscription options now rather than in Run.
	if _, err := r.subscription(); err != nil {
		return nil, err
	}
	return r, nil
}

// Position returns the checkpoint of the last commit the broker
// acknowledged (or went past: a commit of another bucket).
func (r *Relay) Position() int64 { return r.pos.Load() }

// Progress returns the lag report of the relay's subscription (see
// subscription.Progress).
func (r *Relay) Progress() subscription.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sub == nil {
		return subscription.Progress{Position: r.pos.Load()}
	}
	return r.sub.Progress()
}

// ErrRunning is returned by Run when the relay is running already.
var ErrRunning = errors.New("relay: already running")

// Run relays until ctx is done (it then saves the position and returns
// ctx.Err()), or a permanent failure: a commit that cannot be encoded
// (*EncodeError), a corrupt commit, a lost lease (ErrLeaseLost), a
// permanent storage error. Broker and storage outages are retried with
// backoff, forever: a commit the broker refuses stops the relay's progress,
// never skips it.
func (r *Relay) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer r.running.Store(false)
	attempt := 0
	for {
		from, err := r.resume(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			attempt++
			d := backoff(r.opts.Read.MinBackoff, r.opts.Read.MaxBackoff, attempt)
			r.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "relay: cannot find where to resume; retrying", slog.Duration("wait", d), slog.Any("error", err))
			if !sleep(ctx, d) {
				return ctx.Err()
			}
			continue
		}
		attempt = 0
		err = r.runFrom(ctx, from)
		if errors.Is(err, ErrOutOfSync) && ctx.Err() == nil {
			r.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "relay: the broker holds messages this relay did not publish; resuming from the broker",
				slog.Int64("position", r.pos.Load()), slog.Any("error", err))
			continue
		}
		return err
	}
}

// resume returns the checkpoint to go on after: the greater of the saved
// one and the broker's.
func (r *Relay) resume(ctx context.Context) (int64, error) {
	var from int64
	if r.opts.Checkpoints != nil {
		cp, err := r.opts.Checkpoints.Load(ctx)
		if err != nil {
			return 0, err
		}
		from = cp
	}
	if res, ok := r.pub.(Resumer); ok {
		cp, err := res.Last(ctx)
		if err != nil {
			return 0, fmt.Errorf("relay: read the broker's last checkpoint: %w", err)
		}
		from = max(from, cp)
	}
	return from, nil
}

// runFrom runs one subscription from checkpoint from.
func (r *Relay) runFrom(ctx context.Context, from int64) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.pos.Store(from)
	// Save only after publishing: moving past commits that are not relayed
	// (the checkpoint commits of StoreCheckpoints among them) is not worth a
	// save, and saving for them would feed itself.
	r.published.Store(false)
	lastSave := time.Now()
	save := func(ctx context.Context, cp int64) error {
		if r.opts.Checkpoints == nil || !r.published.Load() {
			return nil
		}
		if err := r.opts.Checkpoints.Save(ctx, cp); err != nil {
			return err
		}
		r.published.Store(false)
		lastSave = time.Now()
		return nil
	}
	var fatal error
	sub, err := subscription.New(r.store, r.handle, r.readOptions(func(p subscription.Progress) {
		r.pos.Store(p.Position)
		if time.Since(lastSave) < r.opts.SaveEvery {
			return
		}
		if err := save(ctx, p.Position); err != nil {
			if errors.Is(err, ErrLeaseLost) {
				fatal = err
				cancel(err)
				return
			}
			r.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "relay: cannot save the checkpoint; will try again", slog.Any("error", err))
		}
	}))
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.sub = sub
	r.mu.Unlock()
	err = sub.Run(ctx, from)
	if fatal != nil {
		return fatal
	}
	// Save what was acknowledged, whatever stopped us.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer scancel()
	if serr := save(sctx, r.pos.Load()); serr != nil {
		r.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "relay: cannot save the checkpoint on the way out", slog.Any("error", serr))
		if errors.Is(serr, ErrLeaseLost) {
			return serr
		}
	}
	var he *subscription.HandlerError
	if errors.As(err, &he) {
		return he.Err // the handler's own error says it all (EncodeError, ErrOutOfSync)
	}
	return err
}

// subscription validates the read options.
func (r *Relay) subscription() (*subscription.Subscription, error) {
	return subscription.New(r.store, r.handle, r.readOptions(nil))
}

func (r *Relay) readOptions(onProgress func(subscription.Progress)) subscription.Options {
	o := r.opts.Read
	o.Buckets = r.opts.Buckets
	o.OnProgress = onProgress
	o.OnCorrupt = nil
	o.Retry = func(err error, attempt int) bool {
		var ee *EncodeError
		return !errors.Is(err, ErrOutOfSync) && !errors.As(err, &ee)
	}
	if o.Logger == nil {
		o.Logger = r.opts.Logger
	}
	return o
}

// handle publishes a page: the commits of the relayed buckets as messages,
// and reports how many commits of the page are done (published, or not
// relayed).
func (r *Relay) handle(ctx context.Context, page []eventstore.Commit) (int, error) {
	msgs := make([]Message, 0, len(page))
	idx := make([]int, 0, len(page)) // page index of each message
	for i := range page {
		c := &page[i]
		if r.only == nil && c.BucketID == CheckpointBucket || r.only != nil && !r.only[c.BucketID] {
			continue
		}
		var ms []Message
		var err error
		if r.opts.PerEvent {
			ms, err = EncodeEvents(c, &r.opts)
		} else {
			var m Message
			m, err = Encode(c, &r.opts)
			ms = []Message{m}
		}
		if err != nil {
			if len(msgs) == 0 {
				return i, err
			}
			n, perr := r.pub.Publish(ctx, msgs)
			if n > 0 {
				r.published.Store(true)
			}
			if perr != nil {
				return done(page, idx, n), perr
			}
			return i, err
		}
		for _, m := range ms {
			msgs = append(msgs, m)
			idx = append(idx, i)
		}
	}
	if len(msgs) == 0 {
		return len(page), nil
	}
	n, err := r.pub.Publish(ctx, msgs)
	if n > 0 {
		r.published.Store(true)
	}
	if n < 0 || n > len(msgs) || (n < len(msgs) && err == nil) {
		return done(page, idx, 0), fmt.Errorf("relay: publisher %T acknowledged %d of %d messages without an error", r.pub, n, len(msgs))
	}
	if n == len(msgs) {
		return len(page), nil
	}
	return done(page, idx, n), err
}

// done returns how many commits of page are done when the first n
// messages (of the commits at page indexes idx) were acknowledged: those
// before the (n+1)-th message's commit (which may be partly published).
func done(page []eventstore.Commit, idx []int, n int) int {
	if n < len(idx) {
		return idx[n]
	}
	return len(page)
}
