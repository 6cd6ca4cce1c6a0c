package acceptance

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/goeventstore/eventstore/persistence"
)

var snapshotScenarios = []scenario{
	{name: "LatestAtOrBelow", run: latestSnapshot},
	{name: "NotFound", run: snapshotNotFound},
	{name: "ReplaceAtSameRevision", run: replaceSnapshot},
	{name: "StreamMustHoldRevision", run: snapshotNeedsStream},
	{name: "BucketIsolation", run: snapshotBuckets},
	{name: "StreamsToSnapshot", run: streamsToSnapshot},
	{name: "StreamsToSnapshotPaging", run: streamsToSnapshotPaging},
	{name: "InvalidSnapshots", run: invalidSnapshots},
}

// snapshot builds a snapshot whose payload names its revision.
func snapshot(bucketID, streamID string, rev int) persistence.Snapshot {
	return persistence.Snapshot{BucketID: bucketID, StreamID: streamID, StreamRevision: rev,
		Payload: fmt.Appendf(nil, `{"state.at":%d,"stream":%q}`, rev, streamID)}
}

func (f *fixture) addSnapshot(s persistence.Snapshot) {
	f.t.Helper()
	what := fmt.Sprintf("AddSnapshot(%q, %q, revision %d)", short(s.BucketID), short(s.StreamID), s.StreamRevision)
	f.await(what)
	f.must(what, f.e.AddSnapshot(f.ctx, s))
}

// checkLatest fails unless LatestSnapshot returns want (or, with want nil,
// an error matching ErrSnapshotNotFound).
func (f *fixture) checkLatest(bucketID, streamID string, maxRev int, want *persistence.Snapshot) {
	f.t.Helper()
	what := fmt.Sprintf("LatestSnapshot(%q, %q, %d)", short(bucketID), short(streamID), maxRev)
	f.await(what)
	got, err := f.e.LatestSnapshot(f.ctx, bucketID, streamID, maxRev)
	if want == nil {
		f.expectStreamError(what, err, persistence.ErrSnapshotNotFound, bucketID, streamID)
		return
	}
	if err != nil {
		f.t.Error(f.explain(what, err))
		return
	}
	if got.BucketID != want.BucketID || got.StreamID != want.StreamID || got.StreamRevision != want.StreamRevision || !bytes.Equal(got.Payload, want.Payload) {
		f.t.Errorf("%s = {%q %q %d %s}, want {%q %q %d %s}", what, short(got.BucketID), short(got.StreamID), got.StreamRevision, describe(got.Payload),
			short(want.BucketID), short(want.StreamID), want.StreamRevision, describe(want.Payload))
	}
}

// latestSnapshot (NEventStore: when_saving_a_snapshot, when_retrieving_a_
// snapshot): revisions 1 to 6 with snapshots at 1, 3 and 5; LatestSnapshot
// returns the one with the greatest revision at or below the bound, the
// latest with no bound (0 or less).
func latestSnapshot(f *fixture) {
	const stream = "snapshots"
	f.commitMany(bucketA, stream, 3, 2)
	s1, s3, s5 := snapshot(bucketA, stream, 1), snapshot(bucketA, stream, 3), snapshot(bucketA, stream, 5)
	// Added out of order on purpose.
	f.addSnapshot(s3)
	f.addSnapshot(s5)
	f.addSnapshot(s1)
	for _, tc := range []struct {
		max  int
		want *persistence.Snapshot
	}{{1, &s1}, {2, &s1}, {3, &s3}, {4, &s3}, {5, &s5}, {6, &s5}, {100, &s5}, {0, &s5}, {-1, &s5}} {
		f.checkLatest(bucketA, stream, tc.max, tc.want)
	}
}

// snapshotNotFound: no snapshot at or below the bound, or none at all, or no
// stream at all: an error matching ErrSnapshotNotFound naming the stream.
func snapshotNotFound(f *fixture) {
	f.checkLatest(bucketA, "missing", 0, nil)
	f.commitMany(bucketA, "plain", 2, 2)
	f.checkLatest(bucketA, "plain", 0, nil)
	f.checkLatest(bucketA, "plain", 4, nil)
	f.addSnapshot(snapshot(bucketA, "plain", 3))
	f.checkLatest(bucketA, "plain", 2, nil)
	s := snapshot(bucketA, "plain", 3)
	f.checkLatest(bucketA, "plain", 3, &s)
}

// replaceSnapshot (NEventStore: when_adding_multiple_snapshots_for_same_
// bucketId_streamId_streamRevision): a second AddSnapshot at the same
// revision does not fail, and (our contract, where NEventStore left it to
// each engine) it replaces the first.
func replaceSnapshot(f *fixture) {
	const stream = "replace"
	f.commitMany(bucketA, stream, 1, 2)
	first := snapshot(bucketA, stream, 2)
	f.addSnapshot(first)
	second := first
	second.Payload = []byte(`{"state.at":2,"version":"second"}`)
	f.addSnapshot(second)
	f.checkLatest(bucketA, stream, 0, &second)
}

// snapshotNeedsStream: AddSnapshot on a stream that does not exist, or at a
// revision no commit of the stream holds, fails with an error matching
// ErrStreamNotFound and stores nothing.
func snapshotNeedsStream(f *fixture) {
	err := f.e.AddSnapshot(f.ctx, snapshot(bucketA, "missing", 1))
	f.expectError("AddSnapshot on a missing stream", err, persistence.ErrStreamNotFound)
	f.checkLatest(bucketA, "missing", 0, nil)
	f.commitMany(bucketA, "short", 1, 2)
	err = f.e.AddSnapshot(f.ctx, snapshot(bucketA, "short", 3))
	f.expectError("AddSnapshot beyond the stream's head", err, persistence.ErrStreamNotFound)
	f.checkLatest(bucketA, "short", 0, nil)
	err = f.e.AddSnapshot(f.ctx, snapshot(bucketB, "short", 1))
	f.expectError("AddSnapshot on the stream ID in another bucket", err, persistence.ErrStreamNotFound)
	f.checkLatest(bucketB, "short", 0, nil)
}

// snapshotBuckets (NEventStore: when_saving_a_snapshot_for_a_stream_with_the_
// same_id_as_a_stream_in_another_bucket): a snapshot of a stream in one
// bucket is invisible from the same stream ID in another.
func snapshotBuckets(f *fixture) {
	const stream = "shared-name"
	f.commitMany(bucketA, stream, 1, 2)
	f.commitMany(bucketB, stream, 1, 2)
	sb := snapshot(bucketB, stream, 2)
	f.addSnapshot(sb)
	f.checkLatest(bucketA, stream, 0, nil)
	f.checkLatest(bucketB, stream, 0, &sb)
	if hs := f.heads(bucketA, 1); len(hs) != 1 || hs[0].SnapshotRevision != 0 {
		f.t.Errorf("StreamsToSnapshot(a, 1) = %+v, want the stream with no snapshot", hs)
	}
}

// streamsToSnapshot (NEventStore: when_a_commit_is_successfully_persisted,
// when_a_snapshot_has_been_added_to_the_most_recent_commit_of_a_stream,
// when_adding_a_commit_after_a_snapshot): a stream is listed when its head
// is at least threshold revisions past its latest snapshot, with both
// revisions in the head.
func streamsToSnapshot(f *fixture) {
	const stream = "heads"
	head := func(rev, snap int) []persistence.StreamHead {
		return []persistence.StreamHead{{BucketID: bucketA, StreamID: stream, HeadRevision: rev, SnapshotRevision: snap}}
	}
	check := func(threshold int, want []persistence.StreamHead) {
		f.t.Helper()
		if got := f.heads(bucketA, threshold); !slices.Equal(got, want) {
			f.t.Errorf("StreamsToSnapshot(a, %d) = %+v, want %+v", threshold, got, want)
		}
	}
	f.commit(f.attempt(bucketA, stream, 1, 2, 2))
	check(1, head(2, 0))
	check(2, head(2, 0))
	check(3, nil)
	f.commit(f.attempt(bucketA, stream, 2, 4, 2))
	f.addSnapshot(snapshot(bucketA, stream, 4))
	check(1, nil)
	f.commit(f.attempt(bucketA, stream, 3, 6, 2))
	check(2, head(6, 4))
	check(3, nil)
	if got := f.heads(bucketB, 1); len(got) != 0 {
		f.t.Errorf("StreamsToSnapshot(b, 1) = %+v, want nothing from bucket a", got)
	}
}

// streamsToSnapshotPaging (NEventStore: when_getting_streams_to_snapshot_
// amount_exceeds_PageSize): 2*PageSize+1 streams of three commits each are
// all listed, once, with the right heads; streams of another bucket are not.
func streamsToSnapshotPaging(f *fixture) {
	n := 2*f.page + 1
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("stream-%02d", i)
		f.commitMany(bucketA, want[i], 3, 1)
	}
	f.commitMany(bucketB, "elsewhere", 3, 1)
	got := f.heads(bucketA, 1)
	names := make([]string, len(got))
	for i, h := range got {
		names[i] = h.StreamID
		if h.BucketID != bucketA || h.HeadRevision != 3 || h.SnapshotRevision != 0 {
			f.t.Errorf("StreamsToSnapshot(a, 1): head %+v, want bucket %q, head revision 3, snapshot revision 0", h, bucketA)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		f.t.Errorf("StreamsToSnapshot(a, 1) listed %d streams %v, want %d %v", len(names), names, n, want)
	}
	last := want[n-1]
	if cs := f.readStream(bucketA, last, 0, 0); len(cs) != 3 {
		f.t.Errorf("ReadStream(%q) yielded %d commits, want 3", last, len(cs))
	}
}

// invalidSnapshots: AddSnapshot validates with persistence.ValidateSnapshot.
func invalidSnapshots(f *fixture) {
	f.commitMany(bucketA, "s", 1, 2)
	for _, tc := range []struct {
		name   string
		change func(s *persistence.Snapshot)
	}{
		{"revision 0", func(s *persistence.Snapshot) { s.StreamRevision = 0 }},
		{"empty payload", func(s *persistence.Snapshot) { s.Payload = nil }},
		{"payload over MaxPayloadSize", func(s *persistence.Snapshot) { s.Payload = make([]byte, persistence.MaxPayloadSize+1) }},
		{"empty StreamID", func(s *persistence.Snapshot) { s.StreamID = "" }},
		{"empty BucketID", func(s *persistence.Snapshot) { s.BucketID = "" }},
		{"StreamID over MaxIDLength", func(s *persistence.Snapshot) { s.StreamID = strings.Repeat("s", persistence.MaxIDLength+1) }},
	} {
		s := snapshot(bucketA, "s", 1)
		tc.change(&s)
		f.expectError("AddSnapshot with "+tc.name, f.e.AddSnapshot(f.ctx, s), persistence.ErrInvalid)
	}
	f.checkLatest(bucketA, "s", 0, nil)
	expectErrorOnly(f, "StreamsToSnapshot with threshold 0", f.e.StreamsToSnapshot(f.ctx, bucketA, 0), persistence.ErrInvalid)
}
