package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/relay"
)

func (a *app) dispatchRunCmd() *cobra.Command {
	var to string
	var follow bool
	var batch int
	var poll time.Duration
	cmd := &cobra.Command{
		Use:   "run --to URL",
		Short: "Publish the undispatched commits to NATS JetStream or Kafka, marking each once acknowledged",
		Long: `run publishes every undispatched commit of the store (of --bucket only, if
given) to a message broker, in checkpoint order, in batches of --batch, and
marks each dispatched once the broker has acknowledged it: a commit is never
marked without being published. With --follow it keeps going for new commits,
looking every --poll, until interrupted, and waits out an outage of the broker
or the store (it says so on stderr and tries again, every 30s at most); without
it, an outage ends the run with an error. Ctrl-C stops after the batch in
flight: what the broker acknowledged is marked, the rest stays undispatched.

Delivery is at least once: a commit whose acknowledgement was lost, or whose
mark failed, is published again by the next run. Every message carries the
commit ID as its message ID (NATS JetStream drops such repeats within the
stream's duplicate window) and in the Eventstore-Commit-Id header.

` + busHelp,
		Example: `  eventstore dispatch run --to nats://127.0.0.1:4222?stream=EVENTS
  eventstore dispatch run --to 'nats://127.0.0.1:4222?stream=EVENTS&prefix=events' --follow   # subject events.BUCKET
  eventstore dispatch run --to kafka://127.0.0.1:9092/eventstore.commits
  eventstore dispatch run --to kafka://kafka-1:9092,kafka-2:9092?prefix=events --bucket tenant-7`,
		Args: args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return usagef("dispatch run needs --to URL: nats://HOST:PORT?stream=NAME or kafka://BROKER:PORT/TOPIC")
			}
			if batch < 1 || batch > 10000 || poll <= 0 {
				return usagef("--batch %d --poll %v: want a batch of 1 to 10000 and a positive poll interval", batch, poll)
			}
			ctx := cmd.Context()
			// JSON payloads are read keeping each event's type name and
			// JSON as stored (typedJSON); gob ones are decoded.
			var ser eventstore.Serializer = typedJSON{}
			if a.serializer == "gob" {
				ser = eventstore.NewGobSerializer(nil)
			}
			ser, err := a.wrapSerializer(ser)
			if err != nil {
				return err
			}
			s, done, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer done()
			e := s.Engine()
			if err := tracksDispatch(e); err != nil {
				return err
			}
			timeout := a.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			b, err := openBus(ctx, to, timeout)
			if err != nil {
				return err
			}
			defer b.close()
			b.opts.TypeName = typedName
			r := &dispatchRun{e: e, ser: ser, bus: b, url: to, bucket: a.bucket, batch: batch, p: a.newProgress("dispatch", 0), wrote: a.wrote,
				warn: func(format string, args ...any) { fmt.Fprintf(a.stderr, "eventstore: "+format+"\n", args...) }}
			err = r.run(ctx, follow, poll)
			r.p.Done()
			if errors.Is(err, context.Canceled) && follow && r.err == nil {
				err = nil // Ctrl-C ends following: not an error
			}
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return fmt.Errorf("interrupted after publishing %d commits (each marked dispatched; the rest stay undispatched): run it again to go on: %w", r.published, err)
				}
				return fmt.Errorf("%w\n(%d commits were published and marked dispatched before that; the rest stay undispatched: run it again once fixed)", err, r.published)
			}
			if a.jsonOut() {
				return a.emit(map[string]any{"published": r.published, "to": redact(to)})
			}
			a.printf("published %d commits to %s and marked them dispatched\n", r.published, redact(to))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "the broker's URL: nats://HOST:PORT?stream=NAME or kafka://BROKER:PORT/TOPIC")
	f.BoolVarP(&follow, "follow", "f", false, "keep publishing new commits until interrupted")
	f.IntVar(&batch, "batch", 256, "commits per publish (and per mark)")
	f.DurationVar(&poll, "poll", time.Second, "with --follow, how often to look for new commits")
	return cmd
}

// dispatchRun publishes a store's undispatched commits.
type dispatchRun struct {
	e      *persistence.Engine
	ser    eventstore.Serializer
	bus    *bus
	url    string
	bucket string // "": every bucket
	batch  int
	p      progress
	wrote  func()                           // called after each batch published and marked (tests); nil: nothing
	warn   func(format string, args ...any) // says what a following run waits out

	published int64
	err       error // a failure that is not an interruption
}

// run publishes what is undispatched, then, following, what comes.
//
// Following, it waits out an outage of the broker or the store: it says so
// on stderr and tries again, backing off up to maxRetryWait; what was not
// acknowledged stays undispatched meanwhile and is published again.
func (r *dispatchRun) run(ctx context.Context, follow bool, poll time.Duration) error {
	wait := poll
	for {
		// Each pass reads from the start: everything before is marked,
		// so that costs only what is undispatched, and a commit that
		// became visible late (behind the last pass) is found.
		err := r.pass(ctx)
		switch {
		case err == nil:
			wait = poll
		case !follow || ctx.Err() != nil || !errors.Is(err, errBroker) && !errors.Is(err, persistence.ErrStorageUnavailable):
			return err
		default:
			r.err = nil
			wait = min(max(2*wait, time.Second), maxRetryWait)
			if r.warn != nil {
				r.warn("%v; trying again in %v", err, wait)
			}
		}
		if !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// maxRetryWait bounds the wait between two attempts of a following run
// during an outage.
const maxRetryWait = 30 * time.Second

// pass publishes and marks the undispatched commits, batch by batch.
func (r *dispatchRun) pass(ctx context.Context) error {
	var after int64
	for {
		page, last, err := r.next(ctx, after)
		if err != nil {
			return err
		}
		if last == after {
			return nil // nothing more
		}
		after = last
		if len(page) == 0 {
			continue // only other buckets' commits
		}
		if err := r.publish(ctx, page); err != nil {
			return err
		}
	}
}

// next reads up to r.batch undispatched commits after a checkpoint (of
// r.bucket, if set), and the last checkpoint it went past.
func (r *dispatchRun) next(ctx context.Context, after int64) ([]persistence.Commit, int64, error) {
	var page []persistence.Commit
	last := after
	for c, err := range r.e.UndispatchedAfter(ctx, after) {
		if err != nil {
			if ctx.Err() == nil {
				r.err = err
			}
			return nil, 0, fmt.Errorf("reading the undispatched commits: %w", err)
		}
		last = c.Checkpoint
		if r.bucket != "" && c.BucketID != r.bucket {
			if last-after > int64(64*r.batch) {
				break // a page's worth of reading: publish what there is
			}
			continue
		}
		page = append(page, c)
		if len(page) == r.batch {
			break
		}
	}
	return page, last, nil
}

// publish publishes page, then marks what the broker acknowledged.
func (r *dispatchRun) publish(ctx context.Context, page []persistence.Commit) error {
	msgs := make([]relay.Message, len(page))
	for i := range page {
		c, err := decodeCommit(r.ser, &page[i])
		if err == nil {
			msgs[i], err = relay.Encode(&c, &r.bus.opts)
		}
		if err != nil {
			r.err = err
			return err
		}
	}
	n, perr := r.bus.pub.Publish(ctx, msgs)
	n = max(0, min(n, len(page)))
	if n > 0 {
		// Marked even after Ctrl-C: the broker has them.
		if err := r.e.MarkDispatchedBatch(context.WithoutCancel(ctx), page[:n]); err != nil {
			r.err = err
			return fmt.Errorf("the broker acknowledged %d commits (checkpoints %d to %d) but marking them dispatched failed; they will be published again: %w",
				n, page[0].Checkpoint, page[n-1].Checkpoint, err)
		}
		r.published += int64(n)
		r.p.Set(r.published)
		if r.wrote != nil {
			r.wrote()
		}
	}
	if perr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.err = perr
		return &brokerError{url: r.url, err: perr}
	}
	return nil
}

// decodeCommit decodes a stored commit's payload with ser, as a store
// reading it would.
func decodeCommit(ser eventstore.Serializer, pc *persistence.Commit) (eventstore.Commit, error) {
	headers, events, err := ser.UnmarshalCommit(pc.Payload)
	if err == nil && len(events) != pc.EventCount {
		err = fmt.Errorf("payload holds %d events, the commit says %d", len(events), pc.EventCount)
	}
	if err != nil {
		return eventstore.Commit{}, &eventstore.CorruptCommitError{BucketID: pc.BucketID, StreamID: pc.StreamID,
			StreamRevision: pc.StreamRevision, CommitSequence: pc.CommitSequence, CommitID: pc.CommitID,
			Checkpoint: pc.Checkpoint, Err: fmt.Errorf("decoding commit payload: %w", err)}
	}
	return eventstore.Commit{
		CommitAttempt: eventstore.CommitAttempt{
			BucketID: pc.BucketID, StreamID: pc.StreamID, StreamRevision: pc.StreamRevision, CommitID: pc.CommitID,
			CommitSequence: pc.CommitSequence, CommitStamp: pc.CommitStamp, Headers: headers, Events: events,
		},
		Checkpoint: pc.Checkpoint,
	}, nil
}
