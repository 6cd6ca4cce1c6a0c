package acceptance

import (
	"github.com/goeventstore/eventstore/persistence"
)

var deleteScenarios = []scenario{
	{"DeleteStream", deleteStream},
	{"CheckpointsNotReusedAfterDelete", noReuseAfterDelete},
	{"Purge", purgeAll},
	{"PurgeBucket", purgeBucket},
	{"Drop", drop},
	{"InitializeKeepsData", initializeKeepsData},
}

func (f *fixture) deleteStream(bucketID, streamID string) {
	f.t.Helper()
	if err := f.e.DeleteStream(f.ctx, bucketID, streamID); err != nil {
		f.t.Fatalf("DeleteStream(%q, %q): %v", bucketID, short(streamID), err)
	}
}

// deleteStream (NEventStore Mongo: When_a_stream_is_deleted, When_a_stream_
// with_two_or_more_commits_is_deleted): the stream's commits and snapshots
// vanish from every read; other streams, also the same stream ID in another
// bucket, are untouched. Deleting again, or deleting a stream that never
// existed, is not an error; the stream can be started afresh.
func deleteStream(f *fixture) {
	doomed := f.commitMany(bucketA, "doomed", 3, 2)
	kept := f.commitMany(bucketA, "kept", 2, 2)
	twin := f.commitMany(bucketB, "doomed", 2, 2)
	f.addSnapshot(snapshot(bucketA, "doomed", 4))
	keptSnap := snapshot(bucketA, "kept", 2)
	f.addSnapshot(keptSnap)
	all := f.readAll(0)

	f.deleteStream(bucketA, "doomed")
	f.checkCommits("ReadStream of the deleted stream", f.readStream(bucketA, "doomed", 0, 0), nil)
	f.checkCommits("ReadStream of another stream", f.readStream(bucketA, "kept", 0, 0), kept)
	f.checkCommits("ReadStream of the same ID in another bucket", f.readStream(bucketB, "doomed", 0, 0), twin)
	f.checkCommits("ReadAll", f.readAll(0), without(all, bucketA, "doomed"))
	f.checkCommits("ReadBucket(a)", f.readBucket(bucketA, 0), kept)
	f.checkCommits("ReadBucket(b)", f.readBucket(bucketB, 0), twin)
	f.checkCommits("Undispatched", f.undispatched(), without(all, bucketA, "doomed"))
	f.checkLatest(bucketA, "doomed", 0, nil)
	f.checkLatest(bucketA, "kept", 0, &keptSnap)
	for _, h := range f.heads(bucketA, 0) {
		if h.StreamID == "doomed" {
			f.t.Errorf("StreamsToSnapshot lists the deleted stream: %+v", h)
		}
	}

	f.deleteStream(bucketA, "doomed")
	f.deleteStream(bucketA, "never-existed")
	f.deleteStream("no-such-bucket", "never-existed")

	again := f.commit(f.attempt(bucketA, "doomed", 1, 1, 1))
	if again.Checkpoint <= maxCheckpoint(doomed, kept, twin) {
		f.t.Errorf("a commit after DeleteStream got checkpoint %d, want above %d: checkpoints are never reused", again.Checkpoint, maxCheckpoint(doomed, kept, twin))
	}
	f.checkCommits("ReadStream of the restarted stream", f.readStream(bucketA, "doomed", 0, 0), []persistence.Commit{again})
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

// purgeAll (NEventStore: when_purging_all_commits, ..._and_there_are_streams_
// in_multiple_buckets, should_not_find_any_undispatched_commits): after Purge
// nothing of any bucket is left (commits, snapshots, heads, undispatched),
// and the engine takes commits again, from sequence 1 on the same streams.
// Checkpoints may restart after a full Purge, so none is compared.
func purgeAll(f *fixture) {
	f.commitMany(bucketA, "s", 2, 2)
	f.commitMany(bucketB, "s", 2, 2)
	f.addSnapshot(snapshot(bucketA, "s", 2))
	if err := f.e.Purge(f.ctx); err != nil {
		f.t.Fatalf("Purge: %v", err)
	}
	f.checkCommits("ReadAll after Purge", f.readAll(0), nil)
	f.checkCommits("ReadBucket(a) after Purge", f.readBucket(bucketA, 0), nil)
	f.checkCommits("ReadBucket(b) after Purge", f.readBucket(bucketB, 0), nil)
	f.checkCommits("ReadStream after Purge", f.readStream(bucketA, "s", 0, 0), nil)
	f.checkCommits("Undispatched after Purge", f.undispatched(), nil)
	if hs := append(f.heads(bucketA, 0), f.heads(bucketB, 0)...); len(hs) != 0 {
		f.t.Errorf("StreamsToSnapshot(0) after Purge = %+v, want none", hs)
	}
	f.checkLatest(bucketA, "s", 0, nil)
	c := f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	f.checkCommits("ReadAll after a commit following Purge", f.readAll(0), []persistence.Commit{c})
}

// purgeBucket: PurgeBucket empties one bucket and leaves the others whole.
// A later commit in the purged bucket gets a checkpoint above all earlier
// ones (NEventStore Mongo: When_stream_is_added_after_a_bucket_purge): the
// other buckets' readers must not miss it.
func purgeBucket(f *fixture) {
	a := f.commitMany(bucketA, "s", 2, 2)
	b := f.commitMany(bucketB, "s", 2, 2)
	a = append(a, f.commit(f.attempt(bucketA, "t", 1, 1, 1)))
	f.addSnapshot(snapshot(bucketA, "s", 2))
	sb := snapshot(bucketB, "s", 2)
	f.addSnapshot(sb)
	if err := f.e.PurgeBucket(f.ctx, bucketA); err != nil {
		f.t.Fatalf("PurgeBucket(a): %v", err)
	}
	f.checkCommits("ReadBucket(a) after PurgeBucket(a)", f.readBucket(bucketA, 0), nil)
	f.checkCommits("ReadStream(a) after PurgeBucket(a)", f.readStream(bucketA, "s", 0, 0), nil)
	f.checkCommits("ReadBucket(b) after PurgeBucket(a)", f.readBucket(bucketB, 0), b)
	f.checkCommits("ReadAll after PurgeBucket(a)", f.readAll(0), b)
	f.checkCommits("Undispatched after PurgeBucket(a)", f.undispatched(), b)
	f.checkLatest(bucketA, "s", 0, nil)
	f.checkLatest(bucketB, "s", 0, &sb)
	if hs := f.heads(bucketA, 0); len(hs) != 0 {
		f.t.Errorf("StreamsToSnapshot(a, 0) after PurgeBucket(a) = %+v, want none", hs)
	}
	if err := f.e.PurgeBucket(f.ctx, "no-such-bucket"); err != nil {
		f.t.Errorf("PurgeBucket of a missing bucket: %v", err)
	}
	c := f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	if c.Checkpoint <= maxCheckpoint(a, b) {
		f.t.Errorf("a commit after PurgeBucket got checkpoint %d, want above %d", c.Checkpoint, maxCheckpoint(a, b))
	}
	f.checkCommits("ReadAll(after b's last)", f.readAll(maxCheckpoint(a, b)), []persistence.Commit{c})
}

// drop: Drop removes data and storage; Initialize makes the engine usable
// again, empty.
func drop(f *fixture) {
	f.commitMany(bucketA, "s", 2, 1)
	f.addSnapshot(snapshot(bucketA, "s", 2))
	if err := f.e.Drop(f.ctx); err != nil {
		f.t.Fatalf("Drop: %v", err)
	}
	if err := f.e.Initialize(f.ctx); err != nil {
		f.t.Fatalf("Initialize after Drop: %v", err)
	}
	f.checkCommits("ReadAll after Drop and Initialize", f.readAll(0), nil)
	f.checkCommits("Undispatched after Drop and Initialize", f.undispatched(), nil)
	f.checkLatest(bucketA, "s", 0, nil)
	c := f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	f.checkCommits("ReadStream after Drop, Initialize and Commit", f.readStream(bucketA, "s", 0, 0), []persistence.Commit{c})
	f.checkCommits("ReadAll after Drop, Initialize and Commit", f.readAll(0), []persistence.Commit{c})
}

// initializeKeepsData: Initialize on storage that already holds data keeps
// it (it runs at every start of an application).
func initializeKeepsData(f *fixture) {
	cs := f.commitMany(bucketA, "s", 2, 1)
	s := snapshot(bucketA, "s", 2)
	f.addSnapshot(s)
	if err := f.e.Initialize(f.ctx); err != nil {
		f.t.Fatalf("Initialize on a store with data: %v", err)
	}
	f.checkCommits("ReadAll after Initialize", f.readAll(0), cs)
	f.checkLatest(bucketA, "s", 0, &s)
	f.commit(f.attempt(bucketA, "s", 3, 3, 1))
}
