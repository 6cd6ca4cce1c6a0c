package acceptance

import (
	"fmt"

	"github.com/goeventstore/eventstore/persistence"
)

var checkpointScenarios = []scenario{
	{"StrictlyIncreasing", checkpointsIncrease},
	{"ExclusiveLowerBound", exclusiveLowerBound},
	{"Buckets", checkpointBuckets},
	{"MorePagesThanOne", checkpointPaging},
	{"MissingBucket", missingBucket},
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
// greater checkpoint.
func exclusiveLowerBound(f *fixture) {
	cs := f.commitMany(persistence.DefaultBucket, "s", 3, 1)
	for i := range cs {
		f.checkCommits(fmt.Sprintf("ReadAll(checkpoint of commit %d)", i+1), f.readAll(cs[i].Checkpoint), cs[i+1:])
	}
	f.checkCommits("ReadAll(after the last)", f.readAll(cs[2].Checkpoint+1), nil)
	f.checkCommits("ReadAll(-1)", f.readAll(-1), cs)
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
