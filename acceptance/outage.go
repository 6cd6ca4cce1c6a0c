package acceptance

import (
	"context"
	"errors"
	"iter"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// Outage tells RunOutage how to take an engine's server away and back.
type Outage struct {
	// New returns a new, NOT yet initialized engine on the server that Stop
	// and Start control. RunOutage initializes it and closes it at cleanup.
	New func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error)
	// Stop takes the server away (stops its container, say).
	Stop func(ctx context.Context) error
	// Start brings it back at the same address.
	Start func(ctx context.Context) error
	// Recovery bounds how long the engine may take to work again after
	// Start (default 2 minutes).
	Recovery time.Duration
}

// OutageTimeout is the operation timeout RunOutage configures, and
// outageSlack what a call may take beyond it to fail.
const (
	OutageTimeout = 3 * time.Second
	outageSlack   = 2 * time.Second
)

// RunOutage checks the contract's promise about a server outage: while the
// server is down (stopped, or paused: hung, answering nothing) every call
// fails with an error wrapping ErrStorageUnavailable within the operation
// timeout (RunOutage passes persistence.WithTimeout(OutageTimeout)) and a
// little slack. A commit's error also names its stream and matches
// ErrOutcomeUnknown: a paused server may apply the write once it runs
// again. Once the server is back, the same engine, not reopened, works
// again: retrying the failed commit with its commit ID stores it or answers
// ErrDuplicateCommit (it had landed), and the store then holds it exactly
// once. It runs as one test, since it stops the server.
func RunOutage(t *testing.T, o Outage) {
	t.Helper()
	ctx := context.Background()
	e, err := o.New(ctx, t, persistence.WithTimeout(OutageTimeout))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if e == nil {
		t.Fatal("New returned a nil engine and no error")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		e.Close(ctx)
	})
	if got := e.Settings().Timeout; got != OutageTimeout {
		t.Fatalf("New was passed persistence.WithTimeout(%v), but the engine's Settings().Timeout is %v: hand the options to the engine's Open or New", OutageTimeout, got)
	}
	if err := e.Initialize(ctx); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	f := &fixture{t: t, ctx: ctx, e: e, has: map[persistence.Capability]bool{}, stamp: time.Now().UTC().Truncate(time.Microsecond)}
	for _, c := range capabilities {
		f.has[c] = e.Supports(c)
	}
	first := f.commit(f.attempt("b", "s", 1, 1, 1))
	// Warm the engine's pool, so that stale connections are in it when the
	// server goes.
	for range 3 {
		f.readStream("b", "s", 0, 0)
	}

	if err := o.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	bound := OutageTimeout + outageSlack
	// timed runs call and fails unless it returns an error wrapping
	// ErrStorageUnavailable within bound.
	timed := func(name string, call func() error) error {
		t.Helper()
		start := time.Now()
		err := call()
		took := time.Since(start)
		switch {
		case !errors.Is(err, persistence.ErrStorageUnavailable):
			t.Errorf("%s with the server down returned after %v: %v; want ErrStorageUnavailable", name, took.Round(time.Millisecond), err)
		case took > bound:
			t.Errorf("%s with the server down took %v to fail, want at most %v (the %v operation timeout and %v of slack): %v",
				name, took.Round(time.Millisecond), bound, OutageTimeout, outageSlack, err)
		default:
			t.Logf("%s with the server down failed after %v: %v", name, took.Round(time.Millisecond), err)
		}
		return err
	}
	down := f.attempt("b", "s", 2, 2, 1)
	err = timed("Commit", func() error { _, err := e.Commit(ctx, down); return err })
	var se *persistence.StreamError
	if !errors.As(err, &se) || se.StreamID != "s" {
		t.Errorf("Commit with the server down: %v; want a *persistence.StreamError naming the stream", err)
	}
	if !errors.Is(err, persistence.ErrOutcomeUnknown) {
		t.Errorf("Commit with the server down: %v; want ErrOutcomeUnknown too (the write may have reached the server)", err)
	}
	type call struct {
		name string
		call func() error
	}
	calls := []call{
		{"ReadStream", func() error { return firstErr(e.ReadStream(ctx, "b", "s", 0, 0)) }},
		{"ReadAll", func() error { return firstErr(e.ReadAll(ctx, 0)) }},
		{"ReadBucket", func() error { return firstErr(e.ReadBucket(ctx, "b", 0)) }},
		{"Head", func() error { _, err := e.Head(ctx); return err }},
	}
	if e.Supports(persistence.Snapshots) {
		calls = append(calls, call{"LatestSnapshot", func() error { _, err := e.LatestSnapshot(ctx, "b", "s", 0); return err }})
	}
	if e.Supports(persistence.Dispatch) {
		calls = append(calls,
			call{"Undispatched", func() error { return firstErr(e.Undispatched(ctx)) }},
			call{"MarkDispatched", func() error { return e.MarkDispatched(ctx, first) }})
	}
	for _, c := range calls {
		timed(c.name, c.call)
	}

	if err := o.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	recovery := o.Recovery
	if recovery <= 0 {
		recovery = 2 * time.Minute
	}
	deadline := time.Now().Add(recovery)
	retry := func(what string, call func() error) {
		t.Helper()
		for {
			err := call()
			if err == nil {
				return
			}
			if !errors.Is(err, persistence.ErrStorageUnavailable) || time.Now().After(deadline) {
				t.Fatalf("%s after the restart: %v", what, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var got []persistence.Commit
	retry("ReadStream", func() error {
		got = got[:0]
		for c, err := range e.ReadStream(ctx, "b", "s", 0, 0) {
			if err != nil {
				return err
			}
			got = append(got, c)
		}
		return nil
	})
	landed := len(got) == 2 && got[1].CommitID == down.CommitID
	if len(got) == 0 || got[0].CommitID != first.CommitID || len(got) > 2 || len(got) == 2 && !landed {
		t.Fatalf("after the outage the stream holds %d commits, want the one stored before and perhaps the one that failed", len(got))
	}
	// Resolve the unknown outcome as users are told to: retry with the same
	// commit ID.
	var c persistence.Commit
	retry("Commit", func() (err error) {
		c, err = e.Commit(ctx, down)
		if errors.Is(err, persistence.ErrDuplicateCommit) {
			if !landed {
				// It landed after the read above: read it.
				got = got[:0]
				for c, err := range e.ReadStream(ctx, "b", "s", 0, 0) {
					if err != nil {
						return err
					}
					got = append(got, c)
				}
				if len(got) != 2 {
					t.Fatalf("the retry answered ErrDuplicateCommit, but the stream holds %d commits", len(got))
				}
			}
			c = got[1]
			t.Logf("the commit that failed during the outage had been stored: the retry answered %v", err)
			return nil
		}
		if err == nil && landed {
			t.Errorf("the retry of a commit already stored succeeded instead of answering ErrDuplicateCommit")
		}
		return err
	})
	if c.Checkpoint <= first.Checkpoint {
		t.Fatalf("checkpoint %d after %d", c.Checkpoint, first.Checkpoint)
	}
	f.checkCommits("ReadAll after the outage", f.readAll(0), []persistence.Commit{first, c})
}

// firstErr ranges over seq and returns its first error.
func firstErr[T any](seq iter.Seq2[T, error]) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}
