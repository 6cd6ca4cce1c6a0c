package acceptance

import (
	"context"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

var closeScenarios = []scenario{
	{name: "UseAfterClose", run: useAfterClose},
	{name: "CloseTwice", run: closeTwice},
}

// useAfterClose (NEventStore: when_invoking_after_disposal): after Close,
// every method (of the capabilities the engine declares) fails with an
// error wrapping ErrClosed; reads yield that error alone. A second Close
// returns nil.
func useAfterClose(f *fixture) {
	c := f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	f.await("Close")
	f.must("Close", f.e.Close(ctx))
	e, want := f.e, persistence.ErrClosed
	f.expectError("Initialize", e.Initialize(f.ctx), want)
	_, err := e.Commit(f.ctx, f.attempt(bucketA, "s", 2, 2, 1))
	f.expectError("Commit", err, want)
	_, err = e.CommitValue(f.ctx, f.attempt(bucketA, "s", 2, 2, 1), "value")
	f.expectError("CommitValue", err, want)
	expectErrorOnly(f, "ReadStream", e.ReadStream(f.ctx, bucketA, "s", 0, 0), want)
	expectErrorOnly(f, "ReadAll", e.ReadAll(f.ctx, 0), want)
	expectErrorOnly(f, "ReadBucket", e.ReadBucket(f.ctx, bucketA, 0), want)
	_, err = e.Head(f.ctx)
	f.expectError("Head", err, want)
	if f.can(persistence.Dispatch) {
		expectErrorOnly(f, "Undispatched", e.Undispatched(f.ctx), want)
		f.expectError("MarkDispatched", e.MarkDispatched(f.ctx, c), want)
	}
	if f.can(persistence.Snapshots) {
		expectErrorOnly(f, "StreamsToSnapshot", e.StreamsToSnapshot(f.ctx, bucketA, 1), want)
		_, err = e.LatestSnapshot(f.ctx, bucketA, "s", 0)
		f.expectError("LatestSnapshot", err, want)
		f.expectError("AddSnapshot", e.AddSnapshot(f.ctx, snapshot(bucketA, "s", 1)), want)
	}
	if f.can(persistence.Delete) {
		f.expectError("DeleteStream", e.DeleteStream(f.ctx, bucketA, "s"), want)
	}
	if f.can(persistence.Purge) {
		f.expectError("PurgeBucket", e.PurgeBucket(f.ctx, bucketA), want)
		f.expectError("Purge", e.Purge(f.ctx), want)
	}
	if f.can(persistence.Drop) {
		f.expectError("Drop", e.Drop(f.ctx), want)
	}
	if err := e.Close(ctx); err != nil {
		f.t.Errorf("a second Close: %v, want nil", err)
	}
}

// closeTwice: Close on an engine that was never used returns nil, and so
// does every later Close, even with a cancelled context (the suite's
// cleanup closes once more).
func closeTwice(f *fixture) {
	f.await("Close")
	f.must("Close", f.e.Close(f.ctx))
	done, cancel := context.WithCancel(f.ctx)
	cancel()
	for i := range 2 {
		if err := f.e.Close(done); err != nil {
			f.t.Errorf("Close number %d after the first, with a cancelled context: %v, want nil", i+2, err)
		}
	}
}
