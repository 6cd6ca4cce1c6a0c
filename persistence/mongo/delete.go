package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Deleting never leaves a hole for readers to fill: DeleteStream and
// PurgeBucket replace each commit by a tombstone at the same checkpoint, so
// readers skip it and no writer can reuse the number. Purge deletes
// everything below the greatest checkpoint and leaves one floor tombstone
// there, which readers pass to gapfill.Page as the floor of holes not to
// fill.

// tombstoneBatch is how many commits one bulk write turns into tombstones.
const tombstoneBatch = 1000

// DeleteStream turns the stream's commits into tombstones and deletes its
// snapshots.
func (e *engine) DeleteStream(ctx context.Context, bucketID, streamID string) error {
	key := streamKey(bucketID, streamID)
	defer e.heads.forget(key) // after: a read meanwhile may have cached a commit being deleted
	return e.deleteWhere(ctx, bson.D{kv(fKey, key)}, idxSequence, idxSnapshot)
}

// PurgeBucket turns the bucket's commits into tombstones and deletes its
// snapshots.
func (e *engine) PurgeBucket(ctx context.Context, bucketID string) error {
	defer e.heads.forget("")
	return e.deleteWhere(ctx, bson.D{kv(fBucket, bucketID)}, idxBucket, idxBucket)
}

// deleteWhere replaces every commit matching filter by its tombstone, a
// bulk write per tombstoneBatch commits, then deletes the snapshots matching
// it, through the indexes named.
func (e *engine) deleteWhere(ctx context.Context, filter bson.D, commitsIndex, snapshotsIndex string) error {
	e.closeParked(false)
	cur, err := e.commits.Find(ctx, filter, options.Find().SetHint(commitsIndex).SetProjection(byID).SetBatchSize(tombstoneBatch))
	if err != nil {
		return err
	}
	defer closeCursor(cur)
	for {
		docs, err := nextDocs(ctx, cur, tombstoneBatch, nil)
		if err != nil {
			return err
		}
		if len(docs) == 0 {
			_, err := e.snapshots.DeleteMany(ctx, filter, options.DeleteMany().SetHint(snapshotsIndex))
			return err
		}
		batch := make([]mongo.WriteModel, len(docs))
		for i, d := range docs {
			batch[i] = mongo.NewReplaceOneModel().SetFilter(bson.D{kv(fID, d.ID)}).SetHint(idxID).SetReplacement(tombstone(d.ID))
		}
		if _, err := e.commits.BulkWrite(ctx, batch, options.BulkWrite().SetOrdered(false)); err != nil {
			return err
		}
	}
}

// Purge deletes every commit and snapshot. The greatest checkpoint becomes
// the floor: a tombstone with the key "floor" stays there, so numbering
// continues above it and readers skip the purged range without filling it.
//
// Writers of this process wait while Purge runs. A writer in another
// process whose hint predates the purge may still store a commit below the
// floor, where a reader that has passed the floor would not see it: purge a
// store that other processes are writing to only if that is acceptable.
func (e *engine) Purge(ctx context.Context) error {
	e.purgeMu.Lock()
	defer e.purgeMu.Unlock()
	e.cps.bg.Wait() // a claim made ahead counts in the floor
	e.closeParked(false)
	defer e.heads.forget("")
	top, err := e.maxCheckpoint(ctx)
	if err != nil {
		return err
	}
	if top > 0 {
		if _, err := e.commits.DeleteMany(ctx, bson.D{op(fID, "$lt", top)}, options.DeleteMany().SetHint(idxID)); err != nil {
			return err
		}
		floor := commitDoc{ID: top, Key: floorKey, Tombstone: true}
		if _, err := e.commits.ReplaceOne(ctx, bson.D{kv(fID, top)}, &floor, options.Replace().SetUpsert(true).SetHint(idxID)); err != nil {
			return err
		}
		e.cps.raise(top)
		e.cps.leaveBlock()
	}
	_, err = e.snapshots.DeleteMany(ctx, bson.D{}, options.DeleteMany().SetHint(idxID))
	return err
}
