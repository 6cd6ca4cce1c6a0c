package acceptance

import (
	"fmt"

	"github.com/goeventstore/eventstore/persistence"
)

var readStreamScenarios = []scenario{
	{name: "RevisionRanges", run: revisionRanges},
	{name: "SingleEventRanges", run: singleEventRanges},
	{name: "MorePagesThanOne", run: streamPaging},
	{name: "MissingStream", run: missingStream},
}

// revisionRanges (NEventStore: when_reading_from_a_given_revision,
// when_reading_from_a_given_revision_to_commit_revision, when_reading_all_
// commits_from_the_year_1_AD): four commits of two events (revisions 1-2,
// 3-4, 5-6, 7-8). A read yields whole commits, from the one holding
// minRevision to the one holding maxRevision; maxRevision <= 0 means no
// upper bound; 0 as minRevision means from the start.
func revisionRanges(f *fixture) {
	const stream = "ranges"
	cs := f.commitMany(persistence.DefaultBucket, stream, 4, 2)
	for _, tc := range []struct {
		min, max    int
		first, last int // indexes into cs; last < first: none
	}{
		{0, 0, 0, 3}, {1, 0, 0, 3}, {0, -1, 0, 3}, {0, 8, 0, 3}, {1, 100, 0, 3},
		{3, 5, 1, 2}, // NEventStore: GetFrom(3, 5) is commits #2 to #3
		{3, 6, 1, 2}, // the commit starting at 7 is excluded
		{2, 2, 0, 0}, {2, 3, 0, 1}, {4, 4, 1, 1}, {4, 5, 1, 2},
		{7, 8, 3, 3}, {8, 0, 3, 3}, {6, 7, 2, 3}, {0, 1, 0, 0},
		{9, 0, 0, -1}, {9, 20, 0, -1},
	} {
		var want []persistence.Commit
		if tc.last >= tc.first {
			want = cs[tc.first : tc.last+1]
		}
		f.checkCommits(fmt.Sprintf("ReadStream(%d, %d)", tc.min, tc.max), f.readStream(persistence.DefaultBucket, stream, tc.min, tc.max), want)
	}
}

// singleEventRanges: with one event per commit, a range yields exactly the
// commits of its revisions.
func singleEventRanges(f *fixture) {
	const stream = "single-events"
	cs := f.commitMany(bucketA, stream, 5, 1)
	f.checkCommits("ReadStream(2, 4)", f.readStream(bucketA, stream, 2, 4), cs[1:4])
	f.checkCommits("ReadStream(5, 5)", f.readStream(bucketA, stream, 5, 5), cs[4:])
	f.checkCommits("ReadStream(1, 1)", f.readStream(bucketA, stream, 1, 1), cs[:1])
}

// streamPaging (NEventStore: when_committing_more_events_than_the_configured_
// page_size): a stream of 2*PageSize+1 commits reads back whole, and so does
// a range that starts and ends inside other pages.
func streamPaging(f *fixture) {
	const stream = "paged"
	n := 2*f.page + 1
	cs := f.commitMany(bucketA, stream, n, 2)
	f.checkCommits("ReadStream(0, 0)", f.readStream(bucketA, stream, 0, 0), cs)
	// From the second commit (revisions 3-4) to the last but one.
	f.checkCommits(fmt.Sprintf("ReadStream(4, %d)", 2*n-3), f.readStream(bucketA, stream, 4, 2*n-3), cs[1:n-1])
	// Another stream in the bucket does not get in the way.
	f.commitMany(bucketA, "other", 2, 1)
	f.checkCommits("ReadStream after another stream's commits", f.readStream(bucketA, stream, 0, 0), cs)
}

// missingStream: a stream with no commits yields nothing and no error (the
// store, not the engine, turns that into ErrStreamNotFound).
func missingStream(f *fixture) {
	f.checkCommits("ReadStream of a missing stream", f.readStream(bucketA, "missing", 0, 0), nil)
	f.commit(f.attempt(bucketA, "present", 1, 1, 1))
	f.checkCommits("ReadStream of a missing stream beside another", f.readStream(bucketA, "missing", 0, 0), nil)
	f.checkCommits("ReadStream of the stream in another bucket", f.readStream(bucketB, "present", 0, 0), nil)
}
