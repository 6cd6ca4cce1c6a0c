package acceptance

import (
	"fmt"

	"github.com/goeventstore/eventstore/persistence"
)

var dispatchScenarios = []scenario{
	{name: "Undispatched", run: undispatchedAll},
	{name: "MarkDispatched", run: markDispatched},
	{name: "MarkInsideRange", run: markInsideRange},
	{name: "MarkDeletedCommit", run: markDeleted, needs: needs(persistence.Delete)},
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
