package acceptance

import (
	"fmt"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/driver"
)

var dispatchScenarios = []scenario{
	{name: "Undispatched", run: undispatchedAll},
	{name: "MarkDispatched", run: markDispatched},
	{name: "MarkInsideRange", run: markInsideRange},
	{name: "MarkDeletedCommit", run: markDeleted, needs: needs(persistence.Delete)},
	{name: "MarkBatch", run: markBatch},
	{name: "MarkBatchDeleted", run: markBatchDeleted, needs: needs(persistence.Delete)},
	{name: "CommitDispatched", run: commitDispatched},
}

// commitDispatched: a commit stored with CommitDispatched is read like any
// other but never undispatched; its duplicate and conflict rules are
// Commit's.
func commitDispatched(f *fixture) {
	const stream = "copied"
	c1 := f.commit(f.attempt(bucketA, stream, 1, 1, 1))
	what := "CommitDispatched(sequence 2)"
	f.await(what)
	c2, err := f.e.CommitDispatched(f.ctx, f.attempt(bucketA, stream, 2, 2, 1))
	f.must(what, err)
	if c2.Checkpoint <= c1.Checkpoint {
		f.t.Fatalf("%s: checkpoint %d, not after the first commit's %d", what, c2.Checkpoint, c1.Checkpoint)
	}
	c3 := f.commit(f.attempt(bucketA, stream, 3, 3, 1))
	checkpoints := func(cs []persistence.Commit) []int64 {
		var out []int64
		for _, c := range cs {
			out = append(out, c.Checkpoint)
		}
		return out
	}
	if got, want := checkpoints(f.undispatched()), []int64{c1.Checkpoint, c3.Checkpoint}; fmt.Sprint(got) != fmt.Sprint(want) {
		f.t.Fatalf("Undispatched after a CommitDispatched between two commits: checkpoints %v, want %v", got, want)
	}
	if got, want := checkpoints(f.readAll(0)), []int64{c1.Checkpoint, c2.Checkpoint, c3.Checkpoint}; fmt.Sprint(got) != fmt.Sprint(want) {
		f.t.Fatalf("ReadAll after a CommitDispatched: checkpoints %v, want %v", got, want)
	}
	dup := f.attempt(bucketA, stream, 4, 4, 1)
	dup.CommitID = c2.CommitID
	_, err = f.e.CommitDispatched(f.ctx, dup)
	f.expectStreamError("CommitDispatched of a stored commit ID", err, persistence.ErrDuplicateCommit, bucketA, stream)
	_, err = f.e.CommitDispatched(f.ctx, f.attempt(bucketA, stream, 3, 3, 1))
	f.expectStreamError("CommitDispatched at a taken sequence", err, persistence.ErrConcurrency, bucketA, stream)
}

func (f *fixture) markBatch(what string, cs []persistence.Commit) {
	f.t.Helper()
	what = fmt.Sprintf("MarkDispatchedBatch(%d commits: %s)", len(cs), what)
	f.await(what)
	f.must(what, f.e.MarkDispatchedBatch(f.ctx, cs))
}

func (f *fixture) mark(c persistence.Commit) {
	f.t.Helper()
	what := fmt.Sprintf("MarkDispatched(stream %q, sequence %d, checkpoint %d)", short(c.StreamID), c.CommitSequence, c.Checkpoint)
	f.await(what)
	f.must(what, f.e.MarkDispatched(f.ctx, c))
}

// manyCommits commits 2*PageSize+1 commits spread over two buckets and a
// few streams, and returns them in checkpoint order.
func (f *fixture) manyCommits() []persistence.Commit {
	f.t.Helper()
	n := 2*f.page + 1
	cs := make([]persistence.Commit, n)
	for i := range n {
		b := bucketA
		if i%2 == 1 {
			b = bucketB
		}
		seq := i/6 + 1
		cs[i] = f.commit(f.attempt(b, fmt.Sprintf("stream-%d", i%3), seq, seq, 1))
	}
	return cs
}

// undispatchedAll (NEventStore v3-v5: should_add_the_commit_to_the_set_of_
// undispatched_commits): every new commit is undispatched; Undispatched
// yields 2*PageSize+1 of them from two buckets, in checkpoint order.
func undispatchedAll(f *fixture) {
	cs := f.manyCommits()
	f.checkCommits("Undispatched", f.undispatched(), cs)
}

// markDispatched (NEventStore v3-v5: when_a_commit_has_been_marked_as_
// dispatched): a marked commit leaves Undispatched and no other does;
// marking twice is not an error; once all are marked, none is left.
func markDispatched(f *fixture) {
	cs := f.manyCommits()
	var rest []persistence.Commit
	for i, c := range cs {
		if i%2 == 0 {
			f.mark(c)
		} else {
			rest = append(rest, c)
		}
	}
	f.checkCommits("Undispatched after marking every other commit", f.undispatched(), rest)
	f.mark(cs[0])
	f.checkCommits("Undispatched after marking a commit twice", f.undispatched(), rest)
	for _, c := range rest {
		f.mark(c)
	}
	f.checkCommits("Undispatched after marking all", f.undispatched(), nil)
	f.checkCommits("ReadAll after marking all", f.readAll(0), cs)
	late := f.commit(f.attempt(bucketA, "late", 1, 1, 1))
	f.checkCommits("Undispatched after a new commit", f.undispatched(), []persistence.Commit{late})
}

// markInsideRange: a dispatcher recovering at start-up marks each commit
// from inside its range over Undispatched. That must neither deadlock nor
// skip commits.
func markInsideRange(f *fixture) {
	cs := f.manyCommits()
	var seen []persistence.Commit
	for c, err := range f.e.Undispatched(f.ctx) {
		if err != nil {
			f.t.Fatalf("Undispatched: %v", err)
		}
		seen = append(seen, c)
		f.mark(c)
	}
	f.checkCommits("Undispatched, marking as it goes", seen, cs)
	f.checkCommits("Undispatched afterwards", f.undispatched(), nil)
}

// markDeleted: marking a commit whose stream has since been deleted is not
// an error.
func markDeleted(f *fixture) {
	cs := f.commitMany(bucketA, "doomed", 2, 1)
	keep := f.commit(f.attempt(bucketA, "kept", 1, 1, 1))
	f.deleteStream(bucketA, "doomed")
	f.mark(cs[0])
	f.checkCommits("Undispatched", f.undispatched(), []persistence.Commit{keep})
}

// markBatch: MarkDispatchedBatch marks exactly the commits it is given, in
// any order and with repeats, however many (more than one engine call's
// worth: driver.MaxDispatchBatch), and marking again is not an error. An
// empty batch does nothing; a batch holding a commit that was never stored
// (checkpoint 0) is refused as invalid before anything is marked.
func markBatch(f *fixture) {
	cs := f.manyCommits()
	f.markBatch("none", nil)
	f.checkCommits("Undispatched after an empty batch", f.undispatched(), cs)

	f.await("MarkDispatchedBatch with an unstored commit")
	err := f.e.MarkDispatchedBatch(f.ctx, []persistence.Commit{cs[0], {CommitAttempt: cs[1].CommitAttempt}})
	f.expectError("MarkDispatchedBatch with an unstored commit (checkpoint 0)", err, persistence.ErrInvalid)
	f.checkCommits("Undispatched after a refused batch", f.undispatched(), cs)

	var even, rest []persistence.Commit
	for i, c := range cs {
		if i%2 == 0 {
			even = append(even, c)
		} else {
			rest = append(rest, c)
		}
	}
	batch := append([]persistence.Commit{even[0]}, even...) // a repeat
	for i, j := 0, len(batch)-1; i < j; i, j = i+1, j-1 {   // and backwards
		batch[i], batch[j] = batch[j], batch[i]
	}
	f.markBatch("every other commit", batch)
	f.checkCommits("Undispatched after marking every other commit in one batch", f.undispatched(), rest)
	f.markBatch("every other commit, again", batch)
	f.checkCommits("Undispatched after marking the same batch again", f.undispatched(), rest)

	// More than one engine call: 2*MaxDispatchBatch+1 commits, the rest among them.
	var big []persistence.Commit
	for len(big) < 2*driver.MaxDispatchBatch+1 {
		big = append(big, cs...)
	}
	f.markBatch("all, repeated past one call", big)
	f.checkCommits("Undispatched after marking all", f.undispatched(), nil)
	f.checkCommits("ReadAll after marking all", f.readAll(0), cs)
	late := f.commit(f.attempt(bucketA, "late", 1, 1, 1))
	f.checkCommits("Undispatched after a new commit", f.undispatched(), []persistence.Commit{late})
}

// markBatchDeleted: a batch may hold commits whose stream has since been
// deleted; the others of the batch are marked.
func markBatchDeleted(f *fixture) {
	doomed := f.commitMany(bucketA, "doomed", 3, 1)
	kept := f.commitMany(bucketB, "kept", 2, 1)
	f.deleteStream(bucketA, "doomed")
	f.markBatch("deleted ones and a live one", append(doomed, kept[0]))
	f.checkCommits("Undispatched", f.undispatched(), kept[1:])
	f.markBatch("only deleted ones", doomed)
	f.checkCommits("Undispatched after a batch of deleted commits", f.undispatched(), kept[1:])
}
