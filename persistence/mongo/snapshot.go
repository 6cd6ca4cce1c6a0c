package mongo

import (
	"context"
	"errors"
	"iter"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/persistence"
)

// snapshotDoc is a snapshot as stored. Its _id is "<stream key>/<revision>",
// so that AddSnapshot replaces a snapshot at the same revision with one
// upsert.
type snapshotDoc struct {
	ID      string `bson:"_id"`
	Key     string `bson:"key"`
	Bucket  string `bson:"bucket"`
	Stream  string `bson:"stream"`
	Rev     int64  `bson:"rev"`
	Payload []byte `bson:"payload"`
}

// LatestSnapshot returns the stream's snapshot with the greatest revision at
// or below maxRevision (no bound if maxRevision <= 0).
func (e *Engine) LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (persistence.Snapshot, error) {
	if err := validateStream(bucketID, streamID); err != nil {
		return persistence.Snapshot{}, err
	}
	if err := e.gate.enter(); err != nil {
		return persistence.Snapshot{}, err
	}
	defer e.gate.leave()
	filter := bson.D{{Key: fKey, Value: streamKey(bucketID, streamID)}}
	if maxRevision > 0 {
		filter = append(filter, bson.E{Key: fRev, Value: bson.D{{Key: "$lte", Value: int64(maxRevision)}}})
	}
	var d snapshotDoc
	err := e.snapshots.FindOne(ctx, filter, options.FindOne().SetSort(bson.D{{Key: fRev, Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return persistence.Snapshot{}, &persistence.StreamError{
			Op: "latest snapshot", BucketID: bucketID, StreamID: streamID, Revision: maxRevision,
			Err: persistence.ErrSnapshotNotFound,
		}
	}
	if err != nil {
		return persistence.Snapshot{}, storageError(ctx, "latest snapshot", err)
	}
	return persistence.Snapshot{BucketID: d.Bucket, StreamID: d.Stream, StreamRevision: int(d.Rev), Payload: d.Payload}, nil
}

// AddSnapshot stores s, replacing a snapshot of the stream at the same
// revision, after checking that a commit of the stream holds that revision.
func (e *Engine) AddSnapshot(ctx context.Context, s persistence.Snapshot) error {
	if err := persistence.ValidateSnapshot(&s); err != nil {
		return err
	}
	if err := e.gate.enter(); err != nil {
		return err
	}
	defer e.gate.leave()
	key := streamKey(s.BucketID, s.StreamID)
	rev := int64(s.StreamRevision)
	// The commit holding rev is the stream's first commit ending at or
	// after it.
	var c commitDoc
	err := e.commits.FindOne(ctx, bson.D{
		{Key: fKey, Value: key},
		{Key: fRev, Value: bson.D{{Key: "$gte", Value: rev}}},
	}, options.FindOne().
		SetSort(bson.D{{Key: fSeq, Value: 1}}).
		SetProjection(bson.D{{Key: fRev, Value: 1}, {Key: fEvents, Value: 1}})).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && c.first() > rev) {
		return &persistence.StreamError{
			Op: "add snapshot", BucketID: s.BucketID, StreamID: s.StreamID, Revision: s.StreamRevision,
			Err: persistence.ErrStreamNotFound,
		}
	}
	if err != nil {
		return storageError(ctx, "add snapshot", err)
	}
	d := snapshotDoc{
		ID:  key + "/" + strconv.FormatInt(rev, 10),
		Key: key, Bucket: s.BucketID, Stream: s.StreamID, Rev: rev, Payload: s.Payload,
	}
	_, err = e.snapshots.ReplaceOne(ctx, bson.D{{Key: fID, Value: d.ID}}, &d, options.Replace().SetUpsert(true))
	return storageError(ctx, "add snapshot", err)
}

// StreamsToSnapshot yields the heads of the bucket's streams at least
// threshold revisions past their latest snapshot. Heads are computed from
// the commits themselves, so that Commit stays a single insert and heads are
// never stale: one query reads the bucket's snapshot revisions, another the
// (key, stream, rev) of the bucket's commits through the bucket index, and
// the engine keeps the greatest revision per stream. (An aggregation with
// $group and $max would do this on the server, but FerretDB implements only
// the $sum and $count accumulators.)
func (e *Engine) StreamsToSnapshot(ctx context.Context, bucketID string, threshold int) iter.Seq2[persistence.StreamHead, error] {
	return func(yield func(persistence.StreamHead, error) bool) {
		const op = "streams to snapshot"
		if err := persistence.ValidateID("BucketID", bucketID); err != nil {
			yield(persistence.StreamHead{}, err)
			return
		}
		if err := e.gate.enter(); err != nil {
			yield(persistence.StreamHead{}, err)
			return
		}
		defer e.gate.leave()
		inBucket := bson.D{{Key: fBucket, Value: bucketID}}
		type head struct {
			Key    string `bson:"key"`
			Stream string `bson:"stream"`
			Rev    int64  `bson:"rev"`
		}
		proj := bson.D{{Key: fID, Value: 0}, {Key: fKey, Value: 1}, {Key: fStream, Value: 1}, {Key: fRev, Value: 1}}
		const batch = 4096

		// Latest snapshot revision per stream.
		snaps := map[string]int64{}
		cur, err := e.snapshots.Find(ctx, inBucket, options.Find().SetProjection(proj).SetBatchSize(batch))
		if err != nil {
			yield(persistence.StreamHead{}, storageError(ctx, op, err))
			return
		}
		for cur.Next(ctx) {
			var h head
			if err := cur.Decode(&h); err != nil {
				closeCursor(cur)
				yield(persistence.StreamHead{}, storageError(ctx, op, err))
				return
			}
			snaps[h.Key] = max(snaps[h.Key], h.Rev)
		}
		err = cur.Err()
		closeCursor(cur)
		if err != nil {
			yield(persistence.StreamHead{}, storageError(ctx, op, err))
			return
		}

		// Head revision per stream.
		cur, err = e.commits.Find(ctx, inBucket, options.Find().SetProjection(proj).SetBatchSize(batch))
		if err != nil {
			yield(persistence.StreamHead{}, storageError(ctx, op, err))
			return
		}
		heads := map[string]head{}
		for cur.Next(ctx) {
			var h head
			if err := cur.Decode(&h); err != nil {
				closeCursor(cur)
				yield(persistence.StreamHead{}, storageError(ctx, op, err))
				return
			}
			if h.Rev > heads[h.Key].Rev {
				heads[h.Key] = h
			}
		}
		err = cur.Err()
		closeCursor(cur)
		if err != nil {
			yield(persistence.StreamHead{}, storageError(ctx, op, err))
			return
		}
		for key, g := range heads {
			h := persistence.StreamHead{
				BucketID: bucketID, StreamID: g.Stream,
				HeadRevision: int(g.Rev), SnapshotRevision: int(snaps[key]),
			}
			if h.HeadRevision-h.SnapshotRevision >= threshold && !yield(h, nil) {
				return
			}
		}
	}
}
