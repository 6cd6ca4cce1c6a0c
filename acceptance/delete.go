package acceptance

import (
	"fmt"
	"slices"

	"github.com/goeventstore/eventstore/persistence"
)

var deleteScenarios = []scenario{
	{name: "DeleteStream", run: deleteStream},
}

var purgeScenarios = []scenario{
	{name: "Purge", run: purgeAll},
	{name: "PurgeBucket", run: purgeBucket},
}

var dropScenarios = []scenario{
	{name: "Drop", run: drop},
}

var initializeScenarios = []scenario{
	{name: "InitializeKeepsData", run: initializeKeepsData},
}

func (f *fixture) deleteStream(bucketID, streamID string) {
	f.t.Helper()
	what := fmt.Sprintf("DeleteStream(%q, %q)", short(bucketID), short(streamID))
	f.await(what)
	f.must(what, f.e.DeleteStream(f.ctx, bucketID, streamID))
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
	snaps := f.can(persistence.Snapshots)
	keptSnap := snapshot(bucketA, "kept", 2)
	if snaps {
		f.addSnapshot(snapshot(bucketA, "doomed", 4))
		f.addSnapshot(keptSnap)
	}
	all := f.readAll(0)

	f.deleteStream(bucketA, "doomed")
	f.checkCommits("ReadStream of the deleted stream", f.readStream(bucketA, "doomed", 0, 0), nil)
	f.checkCommits("ReadStream of another stream", f.readStream(bucketA, "kept", 0, 0), kept)
	f.checkCommits("ReadStream of the same ID in another bucket", f.readStream(bucketB, "doomed", 0, 0), twin)
	f.checkCommits("ReadAll", f.readAll(0), without(all, bucketA, "doomed"))
	f.checkCommits("ReadBucket(a)", f.readBucket(bucketA, 0), kept)
	f.checkCommits("ReadBucket(b)", f.readBucket(bucketB, 0), twin)
	f.checkUndispatched("Undispatched", without(all, bucketA, "doomed"))
	if snaps {
		f.checkLatest(bucketA, "doomed", 0, nil)
		f.checkLatest(bucketA, "kept", 0, &keptSnap)
		for _, h := range f.heads(bucketA, 1) {
			if h.StreamID == "doomed" {
				f.t.Errorf("StreamsToSnapshot lists the deleted stream: %+v", h)
			}
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

// purgeAll (NEventStore: when_purging_all_commits, ..._and_there_are_streams_
// in_multiple_buckets, should_not_find_any_undispatched_commits): after Purge
// nothing of any bucket is left (commits, snapshots, heads, undispatched),
// and the engine takes commits again, from sequence 1 on the same streams,
// at checkpoints above every earlier one (see Checkpoint/NotReusedAfterPurge).
func purgeAll(f *fixture) {
	before := slices.Concat(f.commitMany(bucketA, "s", 2, 2), f.commitMany(bucketB, "s", 2, 2))
	snaps := f.can(persistence.Snapshots)
	if snaps {
		f.addSnapshot(snapshot(bucketA, "s", 2))
	}
	f.await("Purge")
	f.must("Purge", f.e.Purge(f.ctx))
	f.checkCommits("ReadAll after Purge", f.readAll(0), nil)
	f.checkCommits("ReadBucket(a) after Purge", f.readBucket(bucketA, 0), nil)
	f.checkCommits("ReadBucket(b) after Purge", f.readBucket(bucketB, 0), nil)
	f.checkCommits("ReadStream after Purge", f.readStream(bucketA, "s", 0, 0), nil)
	f.checkUndispatched("Undispatched after Purge", nil)
	if snaps {
		if hs := append(f.heads(bucketA, 1), f.heads(bucketB, 1)...); len(hs) != 0 {
			f.t.Errorf("StreamsToSnapshot(1) after Purge = %+v, want none", hs)
		}
		f.checkLatest(bucketA, "s", 0, nil)
	}
	c := f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	f.checkCommits("ReadAll after a commit following Purge", f.readAll(0), []persistence.Commit{c})
	if c.Checkpoint <= maxCheckpoint(before) {
		f.t.Errorf("a commit after Purge got checkpoint %d, want above %d: checkpoints are never reused", c.Checkpoint, maxCheckpoint(before))
	}
}

// purgeBucket: PurgeBucket empties one bucket and leaves the others whole.
// A later commit in the purged bucket gets a checkpoint above all earlier
// ones (NEventStore Mongo: When_stream_is_added_after_a_bucket_purge): the
// other buckets' readers must not miss it.
func purgeBucket(f *fixture) {
	a := f.commitMany(bucketA, "s", 2, 2)
	b := f.commitMany(bucketB, "s", 2, 2)
	a = append(a, f.commit(f.attempt(bucketA, "t", 1, 1, 1)))
	snaps := f.can(persistence.Snapshots)
	sb := snapshot(bucketB, "s", 2)
	if snaps {
		f.addSnapshot(snapshot(bucketA, "s", 2))
		f.addSnapshot(sb)
	}
	f.await("PurgeBucket(a)")
	f.must("PurgeBucket(a)", f.e.PurgeBucket(f.ctx, bucketA))
	f.checkCommits("ReadBucket(a) after PurgeBucket(a)", f.readBucket(bucketA, 0), nil)
	f.checkCommits("ReadStream(a) after PurgeBucket(a)", f.readStream(bucketA, "s", 0, 0), nil)
	f.checkCommits("ReadBucket(b) after PurgeBucket(a)", f.readBucket(bucketB, 0), b)
	f.checkCommits("ReadAll after PurgeBucket(a)", f.readAll(0), b)
	f.checkUndispatched("Undispatched after PurgeBucket(a)", b)
	if snaps {
		f.checkLatest(bucketA, "s", 0, nil)
		f.checkLatest(bucketB, "s", 0, &sb)
		if hs := f.heads(bucketA, 1); len(hs) != 0 {
			f.t.Errorf("StreamsToSnapshot(a, 1) after PurgeBucket(a) = %+v, want none", hs)
		}
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
	snaps := f.can(persistence.Snapshots)
	if snaps {
		f.addSnapshot(snapshot(bucketA, "s", 2))
	}
	f.await("Drop")
	f.must("Drop", f.e.Drop(f.ctx))
	f.await("Initialize after Drop")
	f.must("Initialize after Drop", f.e.Initialize(f.ctx))
	f.checkCommits("ReadAll after Drop and Initialize", f.readAll(0), nil)
	f.checkUndispatched("Undispatched after Drop and Initialize", nil)
	if snaps {
		f.checkLatest(bucketA, "s", 0, nil)
	}
	c := f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	f.checkCommits("ReadStream after Drop, Initialize and Commit", f.readStream(bucketA, "s", 0, 0), []persistence.Commit{c})
	f.checkCommits("ReadAll after Drop, Initialize and Commit", f.readAll(0), []persistence.Commit{c})
}

// initializeKeepsData: Initialize on storage that already holds data keeps
// it (it runs at every start of an application).
func initializeKeepsData(f *fixture) {
	cs := f.commitMany(bucketA, "s", 2, 1)
	s := snapshot(bucketA, "s", 2)
	if f.can(persistence.Snapshots) {
		f.addSnapshot(s)
	}
	f.await("Initialize on a store with data")
	f.must("Initialize on a store with data", f.e.Initialize(f.ctx))
	f.checkCommits("ReadAll after Initialize", f.readAll(0), cs)
	if f.can(persistence.Snapshots) {
		f.checkLatest(bucketA, "s", 0, &s)
	}
	f.commit(f.attempt(bucketA, "s", 3, 3, 1))
}
