package acceptance

import (
	"context"
	"errors"
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

// RunOutage checks the contract's promise about a server outage: while the
// server is down every call fails with an error wrapping
// ErrStorageUnavailable (a commit's error also names its stream) and nothing
// is stored; once the server is back, the same engine, not reopened, works
// again and stores the commit that failed. It runs as one test, since it
// stops the server.
func RunOutage(t *testing.T, o Outage) {
	t.Helper()
	ctx := context.Background()
	e, err := o.New(ctx, t)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	if err := e.Initialize(ctx); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	f := &fixture{t: t, ctx: ctx, e: e, stamp: time.Now().UTC().Truncate(time.Microsecond)}
	first := f.commit(f.attempt("b", "s", 1, 1, 1))
	// Warm the engine's pool, so that stale connections are in it when the
	// server goes.
	for range 3 {
		f.readStream("b", "s", 0, 0)
	}

	if err := o.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	down := f.attempt("b", "s", 2, 2, 1)
	_, err = e.Commit(ctx, down)
	var se *persistence.StreamError
	if !errors.Is(err, persistence.ErrStorageUnavailable) || !errors.As(err, &se) || se.StreamID != "s" {
		t.Fatalf("Commit with the server down: %v; want ErrStorageUnavailable naming the stream", err)
	}
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"ReadAll", func() error { return firstErr(e.ReadAll(ctx, 0)) }},
		{"ReadBucket", func() error { return firstErr(e.ReadBucket(ctx, "b", 0)) }},
		{"ReadStream", func() error { return firstErr(e.ReadStream(ctx, "b", "s", 0, 0)) }},
		{"Undispatched", func() error { return firstErr(e.Undispatched(ctx)) }},
		{"LatestSnapshot", func() error { _, err := e.LatestSnapshot(ctx, "b", "s", 0); return err }},
		{"MarkDispatched", func() error { return e.MarkDispatched(ctx, first) }},
	} {
		if err := c.call(); !errors.Is(err, persistence.ErrStorageUnavailable) {
			t.Errorf("%s with the server down: %v; want ErrStorageUnavailable", c.name, err)
		}
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
	if len(got) != 1 || got[0].CommitID != first.CommitID {
		t.Fatalf("after the outage the stream holds %d commits, want only the one stored before", len(got))
	}
	var c persistence.Commit
	retry("Commit", func() (err error) { c, err = e.Commit(ctx, down); return err })
	if c.Checkpoint <= first.Checkpoint {
		t.Fatalf("checkpoint %d after %d", c.Checkpoint, first.Checkpoint)
	}
	f.checkCommits("ReadAll after the outage", f.readAll(0), []persistence.Commit{first, c})
}

// firstErr ranges over seq and returns its first error.
func firstErr[T any](seq func(func(T, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}
