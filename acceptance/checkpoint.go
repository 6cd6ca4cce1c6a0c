package acceptance

import (
	"fmt"

	"github.com/goeventstore/eventstore/persistence"
)

var checkpointScenarios = []scenario{
	{name: "StrictlyIncreasing", run: checkpointsIncrease},
	{name: "ExclusiveLowerBound", run: exclusiveLowerBound},
	{name: "Buckets", run: checkpointBuckets},
	{name: "MorePagesThanOne", run: checkpointPaging},
	{name: "MissingBucket", run: missingBucket},
	{name: "NotReusedAfterDeleteStream", run: noReuseAfterDelete, needs: needs(persistence.Delete)},
	{name: "NotReusedAfterPurge", run: noReuseAfterPurge, needs: needs(persistence.Purge)},
	{name: "NotReusedAfterPurgeBucket", run: noReuseAfterPurgeBucket, needs: needs(persistence.Purge)},
}

// checkpointsIncrease (NEventStore: when_getting_all_commits_since_
// checkpoint_and_there_are_streams_in_multiple_buckets): ReadAll(0) yields
// every commit of every bucket, in strictly increasing, positive checkpoint
// order, with the checkpoints Commit returned. Checkpoints need not be dense.
func checkpointsIncrease(f *fixture) {
	var cs []persistence.Commit
	cs = append(cs, f.commit(f.attempt(bucketA, "s1", 1, 1, 1)))
	cs = append(cs, f.commit(f.attempt(bucketB, "s1", 1, 1, 1)))
	cs = append(cs, f.commit(f.attempt(bucketA, "s1", 2, 2, 1)))
	cs = append(cs, f.commit(f.attempt(persistence.DefaultBucket, "s2", 1, 3, 3)))
	if !increasing(checkpoints(cs)) {
		f.t.Errorf("Commit returned checkpoints %v, want them positive and strictly increasing", checkpoints(cs))
	}
	got := f.readAll(0)
	if !increasing(checkpoints(got)) {
		f.t.Errorf("ReadAll(0) yielded checkpoints %v, want them positive and strictly increasing", checkpoints(got))
	}
	f.checkCommits("ReadAll(0)", got, cs)
}

// exclusiveLowerBound (NEventStore: when_paging_over_all_commits_from_a_
// particular_checkpoint): ReadAll(after) yields exactly the commits with a
// greater checkpoint; a negative one is invalid.
func exclusiveLowerBound(f *fixture) {
	cs := f.commitMany(persistence.DefaultBucket, "s", 3, 1)
	for i := range cs {
		f.checkCommits(fmt.Sprintf("ReadAll(checkpoint of commit %d)", i+1), f.readAll(cs[i].Checkpoint), cs[i+1:])
	}
	f.checkCommits("ReadAll(after the last)", f.readAll(cs[2].Checkpoint+1), nil)
	expectErrorOnly(f, "ReadAll(-1)", f.e.ReadAll(f.ctx, -1), persistence.ErrInvalid)
	expectErrorOnly(f, "ReadBucket(-1)", f.e.ReadBucket(f.ctx, persistence.DefaultBucket, -1), persistence.ErrInvalid)
}

// checkpointBuckets (NEventStore: when_paging_over_all_commits_of_a_bucket_
// from_a_particular_checkpoint, ..._to_a_checkpoint, when_paging_over_all_
// commits_from_a_particular_checkpoint_to_a_checkpoint): three commits in
// b1, three in b2, four more in b1. ReadBucket(b1, checkpoint of b1's
// second) yields b1's last five and nothing of b2; ReadAll from the same
// checkpoint yields both buckets' later commits.
func checkpointBuckets(f *fixture) {
	var b1, b2 []persistence.Commit
	for i := range 3 {
		b1 = append(b1, f.commit(f.attempt(bucketA, fmt.Sprintf("stream-%d", i), 1, 1, 1)))
	}
	for i := range 3 {
		b2 = append(b2, f.commit(f.attempt(bucketB, fmt.Sprintf("stream-%d", i), 1, 1, 1)))
	}
	for i := range 3 {
		b1 = append(b1, f.commit(f.attempt(bucketA, fmt.Sprintf("stream-%d", i), 2, 2, 1)))
	}
	b1 = append(b1, f.commit(f.attempt(bucketA, "stream-3", 1, 1, 1)))
	from := b1[1].Checkpoint
	f.checkCommits("ReadBucket(b1, after b1's 2nd)", f.readBucket(bucketA, from), b1[2:])
	f.checkCommits("ReadBucket(b2, 0)", f.readBucket(bucketB, 0), b2)
	f.checkCommits("ReadBucket(b2, after b2's 1st)", f.readBucket(bucketB, b2[0].Checkpoint), b2[1:])
	f.checkCommits("ReadBucket(b2, after b1's last)", f.readBucket(bucketB, b1[6].Checkpoint), nil)
	f.checkCommits("ReadAll(after b1's 2nd)", f.readAll(from), byCheckpoint(b1[2:], b2))
	f.checkCommits("ReadBucket(default, 0)", f.readBucket(persistence.DefaultBucket, 0), nil)
}

// checkpointPaging (NEventStore: when_gettingFromCheckpoint_amount_of_commits_
// exceeds_PageSize, when_paging_over_all_commits_from_a_particular_point_in_
// time): 2*PageSize+1 commits on distinct streams in one bucket, and as many
// interleaved in another: ReadAll and ReadBucket yield them all, from 0 and
// from the middle.
func checkpointPaging(f *fixture) {
	n := 2*f.page + 1
	var a, b []persistence.Commit
	for i := range n {
		a = append(a, f.commit(f.attempt(bucketA, fmt.Sprintf("stream-%d", i), 1, 1, 1)))
		b = append(b, f.commit(f.attempt(bucketB, fmt.Sprintf("stream-%d", i), 1, 1, 1)))
	}
	all := byCheckpoint(a, b)
	f.checkCommits("ReadAll(0)", f.readAll(0), all)
	f.checkCommits("ReadAll(from the middle)", f.readAll(all[n].Checkpoint), all[n+1:])
	f.checkCommits("ReadBucket(a, 0)", f.readBucket(bucketA, 0), a)
	f.checkCommits("ReadBucket(b, 0)", f.readBucket(bucketB, 0), b)
	f.checkCommits("ReadBucket(b, from the 2nd)", f.readBucket(bucketB, b[1].Checkpoint), b[2:])
}

// missingBucket: a bucket with no commits reads as empty, with no error.
func missingBucket(f *fixture) {
	f.checkCommits("ReadAll of an empty store", f.readAll(0), nil)
	f.checkCommits("ReadBucket of an empty store", f.readBucket(bucketA, 0), nil)
	f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	f.checkCommits("ReadBucket of another bucket", f.readBucket(bucketB, 0), nil)
}

// noReuseAfterDelete (NEventStore Mongo: When_commit_is_persisted_after_a_
// stream_deletion): deleting the stream that holds the greatest checkpoint
// must not let the next commit take that checkpoint again: a reader that
// saw it would skip the new commit.
func noReuseAfterDelete(f *fixture) {
	first := f.commit(f.attempt(bucketA, "first", 1, 1, 1))
	last := f.commit(f.attempt(bucketA, "last", 1, 1, 1))
	f.deleteStream(bucketA, "last")
	next := f.commit(f.attempt(bucketA, "next", 1, 1, 1))
	if next.Checkpoint <= last.Checkpoint {
		f.t.Errorf("after deleting the commit at checkpoint %d, a new commit got checkpoint %d: checkpoints are never reused", last.Checkpoint, next.Checkpoint)
	}
	f.checkCommits("ReadAll(after the deleted checkpoint)", f.readAll(last.Checkpoint), []persistence.Commit{next})
	f.checkCommits("ReadAll(0)", f.readAll(0), []persistence.Commit{first, next})
}

// noReuseAfterPurge: Purge empties the store but keeps its high-water mark:
// a projection that saw checkpoint N before the purge polls from N, and must
// see the commits made after it. Two purges in a row (the second of an
// empty store) change nothing to that.
func noReuseAfterPurge(f *fixture) {
	before := f.commitMany(bucketA, "s", 2*f.page+1, 1)
	high := maxCheckpoint(before)
	for round := 1; round <= 2; round++ {
		f.await("Purge")
		f.must("Purge", f.e.Purge(f.ctx))
		if round == 2 {
			f.await("a second Purge")
			f.must("a second Purge (of an empty store)", f.e.Purge(f.ctx))
		}
		c := f.commit(f.attempt(bucketA, "s", 1, 1, 1))
		if c.Checkpoint <= high {
			f.t.Fatalf("purge round %d: the greatest checkpoint before Purge was %d, the first commit after it got %d: checkpoints are never reused, not even after Purge", round, high, c.Checkpoint)
		}
		f.checkCommits(fmt.Sprintf("purge round %d: ReadAll(the greatest checkpoint before Purge)", round), f.readAll(high), []persistence.Commit{c})
		high = c.Checkpoint
	}
}

// noReuseAfterPurgeBucket: purging the bucket that holds the greatest
// checkpoint (the only bucket, here) must not let the next commit, in that
// bucket or another, take that checkpoint again.
func noReuseAfterPurgeBucket(f *fixture) {
	before := f.commitMany(bucketA, "s", 2, 1)
	high := maxCheckpoint(before)
	f.await("PurgeBucket(a)")
	f.must("PurgeBucket(a)", f.e.PurgeBucket(f.ctx, bucketA))
	cb := f.commit(f.attempt(bucketB, "s", 1, 1, 1))
	ca := f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	for _, c := range []persistence.Commit{cb, ca} {
		if c.Checkpoint <= high {
			f.t.Errorf("the greatest checkpoint before PurgeBucket was %d, a commit to bucket %q after it got %d: checkpoints are never reused", high, c.BucketID, c.Checkpoint)
		}
	}
	f.checkCommits("ReadAll(the greatest checkpoint before PurgeBucket)", f.readAll(high), []persistence.Commit{cb, ca})
}
