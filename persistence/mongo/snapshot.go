package mongo

import (
	"context"
	"errors"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/persistence/driver"
	"github.com/goeventstore/eventstore/persistence/internal/engines"
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
// or below maxRevision.
func (e *engine) LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (driver.Snapshot, error) {
	filter := bson.D{kv(fKey, streamKey(bucketID, streamID)), op(fRev, "$lte", int64(maxRevision))}
	var d snapshotDoc
	err := e.snapshots.FindOne(ctx, filter, options.FindOne().SetSort(bson.D{kv(fRev, -1)}).SetHint(idxSnapshot)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return driver.Snapshot{}, driver.ErrSnapshotNotFound
	}
	if err != nil {
		return driver.Snapshot{}, err
	}
	return driver.Snapshot{BucketID: d.Bucket, StreamID: d.Stream, StreamRevision: int(d.Rev), Payload: d.Payload}, nil
}

// AddSnapshot stores s, replacing a snapshot of the stream at the same
// revision, after checking that a commit of the stream holds that revision.
func (e *engine) AddSnapshot(ctx context.Context, s driver.Snapshot) error {
	key := streamKey(s.BucketID, s.StreamID)
	rev := int64(s.StreamRevision)
	// The commit holding rev is the stream's first commit ending at or
	// after it.
	var c commitDoc
	err := e.commits.FindOne(ctx, bson.D{kv(fKey, key), op(fRev, "$gte", rev)}, options.FindOne().
		SetSort(bson.D{kv(fSeq, 1)}).SetProjection(bson.D{kv(fRev, 1), kv(fEvents, 1)}).SetHint(idxSequence)).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && c.first() > rev) {
		return driver.ErrStreamNotFound
	}
	if err != nil {
		return err
	}
	d := snapshotDoc{
		ID:  key + "/" + strconv.FormatInt(rev, 10),
		Key: key, Bucket: s.BucketID, Stream: s.StreamID, Rev: rev, Payload: s.Payload,
	}
	_, err = e.snapshots.ReplaceOne(ctx, bson.D{kv(fID, d.ID)}, &d, options.Replace().SetUpsert(true).SetHint(idxID))
	return err
}

// StreamsToSnapshot returns the heads of a page of the bucket's streams,
// those at least q.Threshold revisions past their latest snapshot. Heads are
// computed from the commits themselves, so that Commit stays a single
// insert and heads are never stale. The scan walks the bucket's first
// commits (sequence 1: one per stream) in checkpoint order through the
// bucket index, q.Limit streams per page; the cursor is the checkpoint
// reached. For the page's streams one query reads the revisions of their
// commits and another those of their snapshots, and the engine keeps the
// greatest of each. (An aggregation with $group and $max would do this on
// the server, but FerretDB implements only the $sum and $count
// accumulators.)
func (e *engine) StreamsToSnapshot(ctx context.Context, q driver.HeadQuery) ([]driver.StreamHead, string, error) {
	after, err := engines.IntCursor("mongo", q.Cursor)
	if err != nil {
		return nil, "", err
	}
	firsts, err := find(ctx, e.commits, bson.D{kv(fBucket, q.BucketID), op(fID, "$gt", after), kv(fSeq, int64(1))},
		byID, idxBucket, q.Limit, bson.D{kv(fID, 1), kv(fKey, 1), kv(fStream, 1)})
	if err != nil || len(firsts) == 0 {
		return nil, "", err
	}
	keys := make(bson.A, len(firsts))
	for i := range firsts {
		keys[i] = firsts[i].Key
	}
	heads, err := maxRevisions(ctx, e.commits, idxSequence, keys)
	if err != nil {
		return nil, "", err
	}
	keys = keys[:0]
	for k, rev := range heads {
		if rev >= int64(q.Threshold) {
			keys = append(keys, k)
		}
	}
	snaps := map[string]int64{}
	if len(keys) > 0 {
		if snaps, err = maxRevisions(ctx, e.snapshots, idxSnapshot, keys); err != nil {
			return nil, "", err
		}
	}
	var out []driver.StreamHead
	for i := range firsts {
		f := &firsts[i]
		h := driver.StreamHead{BucketID: q.BucketID, StreamID: f.Stream,
			HeadRevision: int(heads[f.Key]), SnapshotRevision: int(snaps[f.Key])}
		if h.HeadRevision-h.SnapshotRevision >= q.Threshold {
			out = append(out, h)
		}
	}
	next := ""
	if len(firsts) == q.Limit {
		next = strconv.FormatInt(firsts[len(firsts)-1].ID, 10)
	}
	return out, next, nil
}

// maxRevisions returns the greatest rev of coll's documents per key, for
// the keys given.
func maxRevisions(ctx context.Context, coll *mongo.Collection, hint string, keys bson.A) (map[string]int64, error) {
	cur, err := coll.Find(ctx, bson.D{op(fKey, "$in", keys)},
		options.Find().SetProjection(bson.D{kv(fID, 0), kv(fKey, 1), kv(fRev, 1)}).SetBatchSize(4096).SetHint(hint))
	if err != nil {
		return nil, err
	}
	defer closeCursor(cur)
	revs := make(map[string]int64, len(keys))
	for cur.Next(ctx) {
		var d commitDoc
		if err := cur.Decode(&d); err != nil {
			return nil, err
		}
		revs[d.Key] = max(revs[d.Key], d.Rev)
	}
	return revs, cur.Err()
}
