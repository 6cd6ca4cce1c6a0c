package acceptance

import (
	"context"
	"errors"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

var closeScenarios = []scenario{
	{"UseAfterClose", useAfterClose},
}

// useAfterClose (NEventStore: when_invoking_after_disposal): after Close,
// every method fails with an error wrapping ErrClosed; reads yield that
// error alone. A second Close returns nil or ErrClosed.
func useAfterClose(f *fixture) {
	c := f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	if err := f.e.Close(ctx); err != nil {
		f.t.Fatalf("Close: %v", err)
	}
	e, want := f.e, persistence.ErrClosed
	f.expectError("Initialize", e.Initialize(f.ctx), want)
	_, err := e.Commit(f.ctx, f.attempt(bucketA, "s", 2, 2, 1))
	f.expectError("Commit", err, want)
	expectErrorOnly(f, "ReadStream", e.ReadStream(f.ctx, bucketA, "s", 0, 0), want)
	expectErrorOnly(f, "ReadAll", e.ReadAll(f.ctx, 0), want)
	expectErrorOnly(f, "ReadBucket", e.ReadBucket(f.ctx, bucketA, 0), want)
	expectErrorOnly(f, "Undispatched", e.Undispatched(f.ctx), want)
	expectErrorOnly(f, "StreamsToSnapshot", e.StreamsToSnapshot(f.ctx, bucketA, 0), want)
	f.expectError("MarkDispatched", e.MarkDispatched(f.ctx, c), want)
	_, err = e.LatestSnapshot(f.ctx, bucketA, "s", 0)
	f.expectError("LatestSnapshot", err, want)
	f.expectError("AddSnapshot", e.AddSnapshot(f.ctx, snapshot(bucketA, "s", 1)), want)
	f.expectError("DeleteStream", e.DeleteStream(f.ctx, bucketA, "s"), want)
	f.expectError("PurgeBucket", e.PurgeBucket(f.ctx, bucketA), want)
	f.expectError("Purge", e.Purge(f.ctx), want)
	f.expectError("Drop", e.Drop(f.ctx), want)
	if err := e.Close(ctx); err != nil && !errors.Is(err, want) {
		f.t.Errorf("a second Close: %v, want nil or ErrClosed", err)
	}
}
