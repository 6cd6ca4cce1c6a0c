package acceptance

import (
	"fmt"

	"github.com/goeventstore/eventstore/persistence"
)

var headScenarios = []scenario{
	{name: "Empty", run: headEmpty},
	{name: "AfterCommits", run: headAfterCommits},
	{name: "AfterDeleteStream", run: headAfterDelete, needs: needs(persistence.Delete)},
	{name: "AfterPurge", run: headAfterPurge, needs: needs(persistence.Purge)},
}

// checkHead fails unless Head returns the greatest checkpoint ReadAll(0)
// yields (0 if none), and want if want is not negative.
func (f *fixture) checkHead(what string, want int64) {
	f.t.Helper()
	all := f.readAll(0)
	visible := maxCheckpoint(all)
	f.await("Head, " + what)
	got, err := f.e.Head(f.ctx)
	if err != nil {
		f.t.Error(f.explain("Head, "+what, err))
		return
	}
	if want >= 0 && visible != want {
		f.t.Errorf("%s: ReadAll(0) yielded %d commits up to checkpoint %d, want up to %d", what, len(all), visible, want)
	}
	if got != visible {
		f.t.Errorf("%s: Head = %d, want %d, the greatest checkpoint of a visible commit (ReadAll(0) yields %d commits %s)",
			what, got, visible, len(all), summary(all))
	}
}

// headEmpty: the Head of an empty store is 0.
func headEmpty(f *fixture) {
	f.checkHead("an empty store", 0)
}

// headAfterCommits: Head follows commits to several buckets, and is not
// moved by a commit that fails.
func headAfterCommits(f *fixture) {
	var cs []persistence.Commit
	for i := range 2*f.page + 1 {
		b := bucketA // the bucket follows the stream: s1 in bucket-b, s0 and s2 in bucket-a
		if i%3 == 1 {
			b = bucketB
		}
		cs = append(cs, f.commit(f.attempt(b, fmt.Sprintf("s%d", i%3), i/3+1, i/3+1, 1)))
		f.checkHead(fmt.Sprintf("after commit %d", i+1), cs[i].Checkpoint)
	}
	_, err := f.e.Commit(f.ctx, f.attempt(bucketA, "s0", 1, 1, 1))
	f.expectError("a conflicting Commit", err, persistence.ErrConcurrency)
	f.checkHead("after a conflicting commit", maxCheckpoint(cs))
}

// headAfterDelete: deleting the stream that holds the greatest checkpoint
// lowers Head to the greatest checkpoint still visible; deleting another
// leaves it; deleting everything brings it to 0; the next commit raises it
// above every checkpoint handed out before.
func headAfterDelete(f *fixture) {
	f.commit(f.attempt(bucketA, "low", 1, 1, 1))
	mid := f.commit(f.attempt(bucketB, "mid", 1, 1, 1))
	top := f.commit(f.attempt(bucketA, "top", 1, 1, 1))
	f.checkHead("before the deletes", top.Checkpoint)
	f.deleteStream(bucketA, "low")
	f.checkHead("after deleting a stream below the head", top.Checkpoint)
	f.deleteStream(bucketA, "top")
	f.checkHead("after deleting the stream holding the head", mid.Checkpoint)
	f.deleteStream(bucketB, "mid")
	f.checkHead("after deleting every stream", 0)
	next := f.commit(f.attempt(bucketA, "top", 1, 1, 1))
	if next.Checkpoint <= top.Checkpoint {
		f.t.Errorf("a commit after the deletes got checkpoint %d, want above %d", next.Checkpoint, top.Checkpoint)
	}
	f.checkHead("after a commit following the deletes", next.Checkpoint)
}

// headAfterPurge: Head is 0 after Purge (no commit is visible), follows
// PurgeBucket to the greatest checkpoint left, and the next commit raises it
// above every checkpoint handed out before.
func headAfterPurge(f *fixture) {
	a := f.commitMany(bucketA, "s", 2, 1)
	b := f.commitMany(bucketB, "s", 1, 1)
	a = append(a, f.commit(f.attempt(bucketA, "t", 1, 1, 1)))
	f.checkHead("before PurgeBucket", maxCheckpoint(a, b))
	f.await("PurgeBucket(a)")
	f.must("PurgeBucket(a)", f.e.PurgeBucket(f.ctx, bucketA))
	f.checkHead("after PurgeBucket of the bucket holding the head", maxCheckpoint(b))
	f.await("Purge")
	f.must("Purge", f.e.Purge(f.ctx))
	f.checkHead("after Purge", 0)
	c := f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	if c.Checkpoint <= maxCheckpoint(a, b) {
		f.t.Errorf("a commit after Purge got checkpoint %d, want above %d", c.Checkpoint, maxCheckpoint(a, b))
	}
	f.checkHead("after a commit following Purge", c.Checkpoint)
}
