package acceptance

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

var contextScenarios = []scenario{
	{name: "Cancelled", run: cancelled},
	{name: "DeadlineExceeded", run: deadlineExceeded},
	{name: "CancelledDuringRead", run: cancelledDuringRead},
}

// cancelled: every method (of the capabilities the engine declares) called
// with a cancelled context fails with an error wrapping context.Canceled
// (reads yield only that error) and changes nothing. Close is left out: it
// may release resources whatever its context.
func cancelled(f *fixture) {
	c1 := f.commit(f.attempt(bucketA, "s", 1, 2, 2))
	snaps := f.can(persistence.Snapshots)
	snap := snapshot(bucketA, "s", 1)
	if snaps {
		f.addSnapshot(snap)
	}
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	e, want := f.e, context.Canceled

	f.expectError("Initialize", e.Initialize(ctx), want)
	_, err := e.Commit(ctx, f.attempt(bucketA, "s", 2, 3, 1))
	f.expectError("Commit", err, want)
	_, err = e.CommitValue(ctx, f.attempt(bucketA, "new", 1, 1, 1), "value")
	f.expectError("CommitValue to a new stream", err, want)
	expectErrorOnly(f, "ReadStream", e.ReadStream(ctx, bucketA, "s", 0, 0), want)
	expectErrorOnly(f, "ReadAll", e.ReadAll(ctx, 0), want)
	expectErrorOnly(f, "ReadBucket", e.ReadBucket(ctx, bucketA, 0), want)
	_, err = e.Head(ctx)
	f.expectError("Head", err, want)
	if f.can(persistence.Dispatch) {
		expectErrorOnly(f, "Undispatched", e.Undispatched(ctx), want)
		f.expectError("MarkDispatched", e.MarkDispatched(ctx, c1), want)
	}
	if snaps {
		expectErrorOnly(f, "StreamsToSnapshot", e.StreamsToSnapshot(ctx, bucketA, 1), want)
		_, err = e.LatestSnapshot(ctx, bucketA, "s", 0)
		f.expectError("LatestSnapshot", err, want)
		f.expectError("AddSnapshot", e.AddSnapshot(ctx, snapshot(bucketA, "s", 2)), want)
	}
	if f.can(persistence.Delete) {
		f.expectError("DeleteStream", e.DeleteStream(ctx, bucketA, "s"), want)
	}
	if f.can(persistence.Purge) {
		f.expectError("PurgeBucket", e.PurgeBucket(ctx, bucketA), want)
		f.expectError("Purge", e.Purge(ctx), want)
	}
	if f.can(persistence.Drop) {
		f.expectError("Drop", e.Drop(ctx), want)
	}

	// Nothing changed.
	f.checkCommits("ReadAll after the cancelled calls", f.readAll(0), []persistence.Commit{c1})
	f.checkUndispatched("Undispatched after the cancelled calls", []persistence.Commit{c1})
	if snaps {
		f.checkLatest(bucketA, "s", 0, &snap)
	}
}

// deadlineExceeded: a context past its deadline is reported with an error
// wrapping context.DeadlineExceeded, and nothing is written.
func deadlineExceeded(f *fixture) {
	ctx, cancel := context.WithDeadline(f.ctx, time.Now().Add(-time.Second))
	defer cancel()
	_, err := f.e.Commit(ctx, f.attempt(bucketA, "s", 1, 1, 1))
	f.expectError("Commit", err, context.DeadlineExceeded)
	if errors.Is(err, persistence.ErrOutcomeUnknown) {
		f.t.Errorf("Commit with a context past its deadline before the call: %v; nothing was sent, so it must not match ErrOutcomeUnknown", err)
	}
	expectErrorOnly(f, "ReadAll", f.e.ReadAll(ctx, 0), context.DeadlineExceeded)
	f.checkCommits("ReadAll", f.readAll(0), nil)
}

// cancelledDuringRead: a context cancelled in the middle of a read of
// 2*PageSize+1 commits ends it with an error wrapping context.Canceled
// before it has yielded them all (at the latest when it fetches its next
// page).
func cancelledDuringRead(f *fixture) {
	n := 2*f.page + 1
	f.commitMany(bucketA, "s", n, 1)
	reads := map[string]func(ctx context.Context) iter.Seq2[persistence.Commit, error]{
		"ReadStream": func(ctx context.Context) iter.Seq2[persistence.Commit, error] {
			return f.e.ReadStream(ctx, bucketA, "s", 0, 0)
		},
		"ReadAll":    func(ctx context.Context) iter.Seq2[persistence.Commit, error] { return f.e.ReadAll(ctx, 0) },
		"ReadBucket": func(ctx context.Context) iter.Seq2[persistence.Commit, error] { return f.e.ReadBucket(ctx, bucketA, 0) },
	}
	if f.can(persistence.Dispatch) {
		reads["Undispatched"] = func(ctx context.Context) iter.Seq2[persistence.Commit, error] { return f.e.Undispatched(ctx) }
	}
	for name, read := range reads {
		ctx, cancel := context.WithCancel(f.ctx)
		got, failed := 0, false
		for _, err := range read(ctx) {
			if err != nil {
				f.expectError(name+" after cancel", err, context.Canceled)
				failed = true
				continue
			}
			if failed {
				f.t.Errorf("%s yielded a commit after its error", name)
			}
			got++
			cancel()
		}
		cancel()
		if !failed {
			f.t.Errorf("%s yielded %d of %d commits and no error after its context was cancelled", name, got, n)
		}
		if got >= n {
			f.t.Errorf("%s yielded all %d commits although its context was cancelled after the first", name, got)
		}
	}
}
