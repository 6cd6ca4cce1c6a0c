package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/persistence/driver"
	"github.com/goeventstore/eventstore/persistence/gapfill"
)

// Every read is one find with a limit and a batch size one greater, so that
// the server answers it in one batch and closes its cursor (FerretDB keeps a
// cursor open when the batch is exactly full; a batch is split only past
// 16 MB, and then the getMores follow at once).

// ReadStream returns a page of the stream's commits through the
// stream_sequence index. Revisions grow with the commit sequence, so the
// page ends at the first commit that starts past q.MaxRevision.
func (e *engine) ReadStream(ctx context.Context, q driver.StreamQuery) ([]driver.Commit, error) {
	filter := bson.D{
		{Key: fKey, Value: streamKey(q.BucketID, q.StreamID)},
		{Key: fSeq, Value: bson.D{{Key: "$gt", Value: int64(q.AfterSequence)}}},
	}
	if q.MinRevision > 1 {
		filter = append(filter, bson.E{Key: fRev, Value: bson.D{{Key: "$gte", Value: int64(q.MinRevision)}}})
	}
	docs, err := find(ctx, e.commits, filter, bson.D{{Key: fSeq, Value: 1}}, q.Limit, nil)
	if err != nil {
		return nil, err
	}
	out := make([]driver.Commit, 0, len(docs))
	for i := range docs {
		if docs[i].first() > int64(q.MaxRevision) {
			break
		}
		out = append(out, docs[i].commit())
	}
	return out, nil
}

// Undispatched returns a page of the commits still flagged undispatched,
// through the undispatched index. Tombstones never carry the flag. It needs
// no gap filling: a commit that becomes visible behind the page is still
// flagged, and the next scan from the start finds it.
func (e *engine) Undispatched(ctx context.Context, after int64, limit int) ([]driver.Commit, error) {
	docs, err := find(ctx, e.commits,
		bson.D{{Key: fUndispatched, Value: true}, {Key: fID, Value: bson.D{{Key: "$gt", Value: after}}}},
		bson.D{{Key: fUndispatched, Value: 1}, {Key: fID, Value: 1}}, limit, nil)
	if err != nil {
		return nil, err
	}
	out := make([]driver.Commit, len(docs))
	for i := range docs {
		out[i] = docs[i].commit()
	}
	return out, nil
}

// MarkDispatched removes the undispatched flag of c. A commit marked twice,
// or deleted since, is no error.
func (e *engine) MarkDispatched(ctx context.Context, c driver.Commit) error {
	_, err := e.commits.UpdateOne(ctx,
		bson.D{{Key: fID, Value: c.Checkpoint}, {Key: fUndispatched, Value: true}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: fUndispatched, Value: ""}}}})
	return err
}

// How readers never miss a late commit
//
// Writers take a checkpoint before their insert is visible (checkpoint.go),
// so a reader can see 42 while 41 is still on its way, or burnt by a failed
// insert. ReadCommits reads through gapfill.Page, which settles every hole
// between two visible checkpoints by inserting a tombstone
// {_id: hole, tombstone: true} there. If that insert succeeds the number is
// dead: the writer still holding it gets a duplicate _id and retries with a
// number above everything stored, hence above everything any reader has
// read. If it fails on the duplicate _id, the commit is there (an insert is
// atomic) and the reader reads it. Holes at or below the floor that Purge
// records are skipped without filling. Tombstones are never returned.

// maxIDScan bounds the checkpoints a bucket read settles per round trip.
const maxIDScan = 16384

// ReadCommits returns a page of commits in checkpoint order. Every bucket:
// the log's documents in pages, tombstones dropped, until the page is full
// or the log ends. One bucket: other buckets' commits are holes in the
// bucket's order that must not be filled, so it settles the whole log as
// above reading only the checkpoints (_id, covered by the _id index), then
// reads the bucket's commits in the settled range through the bucket
// index; payloads of other buckets never travel. While a round finds too
// few of the bucket's commits, the next one settles twice as many
// checkpoints.
func (e *engine) ReadCommits(ctx context.Context, q driver.CommitQuery) ([]driver.Commit, error) {
	floor, err := e.floor(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]driver.Commit, 0, min(q.Limit, 512))
	pos, scan := q.After, q.Limit
	for {
		asked := scan
		entries, err := gapfill.Page(ctx, commitLog{e, q.BucketID != ""}, pos, floor, asked)
		if err != nil || len(entries) == 0 {
			return out, err
		}
		top := entries[len(entries)-1].ID
		if q.BucketID == "" {
			for i := range entries {
				if !entries[i].Tombstone {
					if out = append(out, entries[i].commit()); len(out) == q.Limit {
						return out, nil
					}
				}
			}
		} else {
			docs, err := find(ctx, e.commits, bson.D{
				{Key: fBucket, Value: q.BucketID},
				{Key: fID, Value: bson.D{{Key: "$gt", Value: pos}, {Key: "$lte", Value: top}}},
			}, bson.D{{Key: fID, Value: 1}}, q.Limit-len(out), nil)
			if err != nil {
				return nil, err
			}
			for i := range docs {
				out = append(out, docs[i].commit())
			}
			if len(out) == q.Limit {
				return out, nil
			}
			scan = min(2*scan, max(maxIDScan, q.Limit))
		}
		if len(entries) < asked {
			return out, nil
		}
		pos = top
	}
}

// floor returns the checkpoint at or below which Purge removed everything
// (0 if the store was never purged).
func (e *engine) floor(ctx context.Context) (int64, error) {
	var d commitDoc
	err := e.commits.FindOne(ctx, bson.D{{Key: fKey, Value: floorKey}},
		options.FindOne().SetProjection(bson.D{{Key: fID, Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return d.ID, err
}

// commitLog is the commits collection as gapfill.Page sees it: whole
// documents, or only their _id.
type commitLog struct {
	e       *engine
	idsOnly bool
}

var _ gapfill.Log[commitDoc] = commitLog{}

// projection returns the projection of the log's reads.
func (l commitLog) projection() any {
	if l.idsOnly {
		return bson.D{{Key: fID, Value: 1}}
	}
	return nil
}

// Scan implements gapfill.Log.
func (l commitLog) Scan(ctx context.Context, after int64, limit int) ([]commitDoc, error) {
	return find(ctx, l.e.commits, bson.D{{Key: fID, Value: bson.D{{Key: "$gt", Value: after}}}},
		bson.D{{Key: fID, Value: 1}}, limit, l.projection())
}

// Checkpoint implements gapfill.Log.
func (commitLog) Checkpoint(d commitDoc) int64 { return d.ID }

// Fill implements gapfill.Log: it inserts a tombstone at cp. A duplicate _id
// means a commit (or another reader's tombstone) is there, fully written.
func (l commitLog) Fill(ctx context.Context, cp int64) (bool, error) {
	_, err := l.e.commits.InsertOne(ctx, tombstone(cp))
	switch {
	case err == nil:
		return true, nil
	case mongo.IsDuplicateKeyError(err):
		return false, nil
	default:
		return false, err
	}
}

// Get implements gapfill.Log.
func (l commitLog) Get(ctx context.Context, cp int64) (commitDoc, bool, error) {
	var d commitDoc
	err := l.e.commits.FindOne(ctx, bson.D{{Key: fID, Value: cp}}, options.FindOne().SetProjection(l.projection())).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, false, nil
	}
	return d, err == nil, err
}

// find returns up to limit documents of coll matching filter in sort
// order, with its cursor closed.
func find(ctx context.Context, coll *mongo.Collection, filter, sort bson.D, limit int, projection any) ([]commitDoc, error) {
	o := options.Find().SetSort(sort).SetLimit(int64(limit)).SetBatchSize(int32(min(limit, 1<<30) + 1))
	if projection != nil {
		o.SetProjection(projection)
	}
	cur, err := coll.Find(ctx, filter, o)
	if err != nil {
		return nil, err
	}
	defer closeCursor(cur)
	docs := make([]commitDoc, 0, min(limit, 512))
	for cur.Next(ctx) {
		docs = append(docs, commitDoc{})
		if err := cur.Decode(&docs[len(docs)-1]); err != nil {
			return nil, err
		}
	}
	return docs, cur.Err()
}

// closeCursor kills a server cursor still open (a read that ended early),
// even when the read's context is done. A cursor the server exhausted costs
// nothing.
func closeCursor(cur *mongo.Cursor) {
	if cur.ID() == 0 {
		_ = cur.Close(context.Background())
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = cur.Close(ctx)
}
