package subscription

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/goeventstore/eventstore"
)

// Defaults of Options.
const (
	DefaultPageSize   = 100
	DefaultPoll       = time.Second
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// Options configure a Subscription. The zero value is usable: every bucket,
// pages of DefaultPageSize, a poll a second, stop at the first handler
// error.
type Options struct {
	// Buckets restricts the subscription to these buckets. Empty: every
	// bucket. One bucket is read with Bucket.Commits (the engine filters);
	// several are read with Store.Commits and filtered here.
	Buckets []string
	// PageSize is the largest page handed to the handler. Zero:
	// DefaultPageSize.
	PageSize int
	// Poll is how long a caught-up subscription waits before reading again,
	// unless a commit of this process wakes it first. Zero: DefaultPoll.
	Poll time.Duration
	// NoWake makes the subscription ignore the wake-up on commits of this
	// process and rely on Poll alone (as it does for other processes'
	// commits): for measurements, mostly.
	NoWake bool
	// MinBackoff and MaxBackoff bound the exponential backoff (with full
	// jitter) after a storage error or a retried handler error. Zero:
	// DefaultMinBackoff, DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Retry decides whether a handler error is retried; attempt counts the
	// failures in a row on the same commit, from 1. Nil: never (Run
	// returns the error).
	Retry func(err error, attempt int) bool
	// OnCorrupt is called with a commit that cannot be decoded. If it
	// returns nil the subscription goes past the commit (its position moves
	// to the commit's checkpoint); otherwise Run returns the error. Nil:
	// Run returns the *eventstore.CorruptCommitError.
	OnCorrupt func(ctx context.Context, err *eventstore.CorruptCommitError) error
	// OnProgress is called, from Run's goroutine, after each page the
	// handler finished (wholly or partly) and whenever the subscription is
	// caught up. Save Progress.Position there to resume from it.
	OnProgress func(Progress)
	// Logger receives the errors the subscription retries. Nil: discard.
	Logger *slog.Logger
}

func (o *Options) fill() error {
	switch {
	case o.PageSize < 0:
		return &eventstore.ValidationError{Field: "PageSize", Value: fmt.Sprint(o.PageSize), Reason: "must not be negative"}
	case o.Poll < 0:
		return &eventstore.ValidationError{Field: "Poll", Value: o.Poll.String(), Reason: "must not be negative"}
	case o.MinBackoff < 0 || o.MaxBackoff < 0:
		return &eventstore.ValidationError{Field: "MinBackoff/MaxBackoff", Reason: "must not be negative"}
	}
	for i, b := range o.Buckets {
		if b == "" {
			return &eventstore.ValidationError{Field: fmt.Sprintf("Buckets[%d]", i), Reason: "must not be empty"}
		}
	}
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Poll == 0 {
		o.Poll = DefaultPoll
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
