package acceptance

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

var reentrancyScenarios = []scenario{
	{name: "InsideReadAll", run: func(f *fixture) { f.reenter("ReadAll") }},
	{name: "InsideReadBucket", run: func(f *fixture) { f.reenter("ReadBucket") }},
	{name: "InsideReadStream", run: func(f *fixture) { f.reenter("ReadStream") }},
	{name: "InsideUndispatched", run: func(f *fixture) { f.reenter("Undispatched") }, needs: needs(persistence.Dispatch)},
}

// reentrancyTimeout bounds the part of a re-entrancy scenario where loop
// bodies call the engine: an engine that holds a lock, a connection or a
// cursor across yields makes such a call wait for ever, and the scenario
// fails after this long instead.
const reentrancyTimeout = 10 * time.Second

// reenter is the re-entrancy scenario for read (ReadAll, ReadBucket,
// ReadStream or Undispatched), over 2*PageSize+1 commits: the body of the
// loop over the read commits to another stream (a projection writing what
// it derives), marks the commit dispatched (as a dispatcher recovering at
// start-up does; if the engine has the capability), and reads a stream
// (a nested read). None of these may wait for the loop to end, and the read
// yields the commits that existed when it began, in order, then at most
// some of the new ones, still in order.
func (f *fixture) reenter(read string) {
	n := 2*f.page + 1
	cs := f.commitMany(bucketA, "source", n, 1)
	ctx, cancel := context.WithTimeout(f.ctx, reentrancyTimeout)
	defer cancel()
	var seq iter.Seq2[persistence.Commit, error]
	switch read {
	case "ReadAll":
		seq = f.e.ReadAll(ctx, 0)
	case "ReadBucket":
		seq = f.e.ReadBucket(ctx, bucketA, 0)
	case "ReadStream":
		seq = f.e.ReadStream(ctx, bucketA, "source", 0, 0)
	case "Undispatched":
		seq = f.e.Undispatched(ctx)
	}
	var seen []persistence.Commit
	derived := 0
	f.await(read + ", its loop body calling the engine")
	for c, err := range seq {
		if err != nil {
			if ctx.Err() != nil && f.ctx.Err() == nil {
				f.t.Fatalf("%s did not yield its next page within %v while its loop body called the engine (%v): does the engine hold a lock across pages?", read, reentrancyTimeout, err)
			}
			f.t.Fatal(f.explain(read, err))
		}
		seen = append(seen, c)
		if len(seen) > 4*n {
			f.t.Fatalf("%s keeps yielding: %d commits", read, len(seen))
		}
		if c.StreamID != "source" {
			continue
		}
		derived++
		d := f.attempt(bucketA, "derived", derived, derived, 1)
		f.reentrant(ctx, read, "Commit", func(ctx context.Context) error {
			_, err := f.e.Commit(ctx, d)
			return err
		})
		if f.can(persistence.Dispatch) {
			f.reentrant(ctx, read, "MarkDispatched", func(ctx context.Context) error { return f.e.MarkDispatched(ctx, c) })
		}
		f.reentrant(ctx, read, "ReadStream", func(ctx context.Context) error {
			got := 0
			for _, err := range f.e.ReadStream(ctx, bucketA, "derived", 0, 0) {
				if err != nil {
					return err
				}
				got++
			}
			if got != derived {
				return fmt.Errorf("a nested ReadStream of the stream the loop body writes yielded %d commits, want %d", got, derived)
			}
			return nil
		})
	}
	cancel()
	if len(seen) < n {
		f.t.Fatalf("%s, its loop body calling the engine, yielded %d commits, want at least the %d that existed when it began", read, len(seen), n)
	}
	f.checkCommits(read+", its loop body calling the engine", seen[:n], cs)
	if read != "ReadStream" && !increasing(checkpoints(seen)) {
		f.t.Errorf("%s, its loop body committing, yielded checkpoints %v, want them strictly increasing", read, checkpoints(seen))
	}
	for _, c := range seen[n:] {
		if c.StreamID != "derived" {
			f.t.Errorf("%s yielded an unexpected commit %s", read, summary([]persistence.Commit{c}))
		}
	}
	if got := len(f.readStream(bucketA, "derived", 0, 0)); got != derived {
		f.t.Errorf("the derived stream holds %d commits, want %d", got, derived)
	}
	if f.can(persistence.Dispatch) && read != "Undispatched" {
		// Every source commit was marked; the derived ones were not.
		for _, c := range f.undispatched() {
			if c.StreamID == "source" {
				f.t.Errorf("Undispatched still yields %s, marked inside the loop", summary([]persistence.Commit{c}))
			}
		}
	}
}

// reentrant runs call, an engine call made by the body of a loop over read,
// and fails the scenario, saying so, if the call does not return before ctx
// (the scenario's reentrancyTimeout) ends.
func (f *fixture) reentrant(ctx context.Context, read, name string, call func(context.Context) error) {
	f.t.Helper()
	f.await(fmt.Sprintf("%s, called by the body of a loop over %s", name, read))
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	stuck := func() {
		f.t.Fatalf("a loop body called %s while %s was yielding and it did not return within %v: does the engine hold rows open across pages?",
			name, read, reentrancyTimeout)
	}
	grace := time.NewTimer(time.Until(deadline(ctx)) + time.Second)
	defer grace.Stop()
	select {
	case err := <-done:
		if err == nil {
			return
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && f.ctx.Err() == nil {
			stuck()
		}
		f.t.Fatal(f.explain(fmt.Sprintf("%s, called by the body of a loop over %s", name, read), err))
	case <-grace.C:
		stuck()
	}
}

// deadline returns ctx's deadline, or an hour from now if it has none.
func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Hour)
}
