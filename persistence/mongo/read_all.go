package mongo

import (
	"context"
	"errors"
	"iter"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/internal/gapfill"
	"github.com/goeventstore/eventstore/persistence"
)

// How readers never miss a late commit
//
// Writers take a checkpoint before their insert is visible (checkpoint.go),
// so a reader can see 42 while 41 is still on its way, or burnt by a failed
// insert. ReadAll and ReadBucket read through gapfill.Read, which settles
// every hole between two visible checkpoints by inserting a tombstone
// {_id: hole, tombstone: true} there. If that insert succeeds the number is
// dead: the writer still holding it gets a duplicate _id and retries with a
// number above everything stored, hence above everything any reader has
// read. If it fails on the duplicate _id, the commit is there (an insert is
// atomic) and the reader reads it. Holes at or below the floor that Purge
// records are skipped without filling. Tombstones are never yielded.

// ReadAll yields every bucket's commits with a checkpoint greater than
// after, in checkpoint order.
func (e *Engine) ReadAll(ctx context.Context, after int64) iter.Seq2[persistence.Commit, error] {
	return e.readLog(ctx, "read all", "", after)
}

// ReadBucket yields the bucket's commits with a checkpoint greater than
// after, in checkpoint order. It walks the same log as ReadAll and drops
// other buckets' commits, since their checkpoints are holes it must not
// fill.
func (e *Engine) ReadBucket(ctx context.Context, bucketID string, after int64) iter.Seq2[persistence.Commit, error] {
	return e.readLog(ctx, "read bucket", bucketID, after)
}

func (e *Engine) readLog(ctx context.Context, op, bucketID string, after int64) iter.Seq2[persistence.Commit, error] {
	return func(yield func(persistence.Commit, error) bool) {
		if bucketID != "" {
			if err := persistence.ValidateID("BucketID", bucketID); err != nil {
				yield(persistence.Commit{}, err)
				return
			}
		}
		if err := e.gate.enter(); err != nil {
			yield(persistence.Commit{}, err)
			return
		}
		defer e.gate.leave()
		floor, err := e.floor(ctx)
		if err != nil {
			yield(persistence.Commit{}, storageError(ctx, op, err))
			return
		}
		log := &commitLog{e: e}
		defer log.close()
		for d, err := range gapfill.Read(ctx, log, after, floor, e.opts.PageSize) {
			if err != nil {
				yield(persistence.Commit{}, storageError(ctx, op, err))
				return
			}
			if d.Tombstone || (bucketID != "" && d.Bucket != bucketID) {
				continue
			}
			if !yield(d.commit(), nil) {
				return
			}
		}
	}
}

// floor returns the checkpoint at or below which Purge removed everything
// (0 if the store was never purged).
func (e *Engine) floor(ctx context.Context) (int64, error) {
	var d commitDoc
	err := e.commits.FindOne(ctx, bson.D{{Key: fKey, Value: floorKey}},
		options.FindOne().SetProjection(bson.D{{Key: fID, Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return d.ID, err
}

// commitLog is the commits collection as gapfill.Read sees it, for one
// read. Scan keeps its cursor open between pages, so a long read is one
// query followed by getMore round trips rather than one query per page.
type commitLog struct {
	e   *Engine
	cur *mongo.Cursor
	at  int64 // checkpoint of the last entry read from cur
}

var _ gapfill.Log[commitDoc] = (*commitLog)(nil)

// Scan implements gapfill.Log.
func (l *commitLog) Scan(ctx context.Context, after int64, limit int) ([]commitDoc, error) {
	if l.cur == nil || after != l.at {
		l.close()
		cur, err := l.e.commits.Find(ctx,
			bson.D{{Key: fID, Value: bson.D{{Key: "$gt", Value: after}}}},
			options.Find().SetSort(bson.D{{Key: fID, Value: 1}}).SetBatchSize(int32(limit)))
		if err != nil {
			return nil, err
		}
		l.cur = cur
	}
	page := make([]commitDoc, 0, limit)
	for len(page) < limit && l.cur.Next(ctx) {
		var d commitDoc
		if err := l.cur.Decode(&d); err != nil {
			l.close()
			return nil, err
		}
		page = append(page, d)
	}
	if err := l.cur.Err(); err != nil {
		l.close()
		return nil, err
	}
	if len(page) < limit {
		l.close() // exhausted
	} else {
		l.at = page[len(page)-1].ID
	}
	return page, nil
}

// Checkpoint implements gapfill.Log.
func (l *commitLog) Checkpoint(d commitDoc) int64 { return d.ID }

// Fill implements gapfill.Log: it inserts a tombstone at cp. A duplicate _id
// means a commit (or another reader's tombstone) is there, fully written.
func (l *commitLog) Fill(ctx context.Context, cp int64) (bool, error) {
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
func (l *commitLog) Get(ctx context.Context, cp int64) (commitDoc, bool, error) {
	var d commitDoc
	err := l.e.commits.FindOne(ctx, bson.D{{Key: fID, Value: cp}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, false, nil
	}
	return d, err == nil, err
}

func (l *commitLog) close() {
	if l.cur != nil {
		closeCursor(l.cur)
		l.cur = nil
	}
}
