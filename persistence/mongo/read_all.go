package mongo

import (
	"context"
	"errors"
	"iter"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/persistence/gapfill"
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
	return func(yield func(persistence.Commit, error) bool) {
		const op = "read all"
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
			if d.Tombstone {
				continue
			}
			if !yield(d.commit(), nil) {
				return
			}
		}
	}
}

// ReadBucket yields the bucket's commits with a checkpoint greater than
// after, in checkpoint order. Other buckets' commits are holes in the
// bucket's order that must not be filled, so it settles the whole log as
// ReadAll does, but reading only the checkpoints (_id, covered by the _id
// index), and after every page of them reads the bucket's commits in that
// settled range through the bucket index. Payloads of other buckets never
// travel.
func (e *Engine) ReadBucket(ctx context.Context, bucketID string, after int64) iter.Seq2[persistence.Commit, error] {
	return func(yield func(persistence.Commit, error) bool) {
		const op = "read bucket"
		if err := persistence.ValidateID("BucketID", bucketID); err != nil {
			yield(persistence.Commit{}, err)
			return
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
		log := &commitLog{e: e, idsOnly: true}
		defer log.close()
		// Every checkpoint in (done, settled] is settled: a commit or a
		// tombstone, for good.
		done, settled, n := after, after, 0
		flush := func() bool {
			if settled == done {
				return true
			}
			cur, err := e.commits.Find(ctx, bson.D{
				{Key: fBucket, Value: bucketID},
				{Key: fID, Value: bson.D{{Key: "$gt", Value: done}, {Key: "$lte", Value: settled}}},
			}, options.Find().SetSort(bson.D{{Key: fID, Value: 1}}).SetBatchSize(int32(e.opts.PageSize)))
			if err != nil {
				yield(persistence.Commit{}, storageError(ctx, op, err))
				return false
			}
			defer closeCursor(cur)
			for cur.Next(ctx) {
				var d commitDoc
				if err := cur.Decode(&d); err != nil {
					yield(persistence.Commit{}, storageError(ctx, op, err))
					return false
				}
				if !yield(d.commit(), nil) {
					return false
				}
			}
			if err := cur.Err(); err != nil {
				yield(persistence.Commit{}, storageError(ctx, op, err))
				return false
			}
			done = settled
			return true
		}
		for d, err := range gapfill.Read(ctx, log, after, floor, e.opts.PageSize) {
			if err != nil {
				yield(persistence.Commit{}, storageError(ctx, op, err))
				return
			}
			settled = d.ID
			if n++; n == e.opts.PageSize {
				if !flush() {
					return
				}
				n = 0
			}
		}
		flush()
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
	e       *Engine
	idsOnly bool // read only _id (ReadBucket)
	cur     *mongo.Cursor
	at      int64 // checkpoint of the last entry read from cur
}

// projection returns the projection of the log's reads.
func (l *commitLog) projection() any {
	if l.idsOnly {
		return bson.D{{Key: fID, Value: 1}}
	}
	return nil
}

var _ gapfill.Log[commitDoc] = (*commitLog)(nil)

// Scan implements gapfill.Log. A cursor the server dropped while the
// caller was busy between pages (MongoDB kills idle cursors after ten
// minutes) is reopened once, after the last entry read.
func (l *commitLog) Scan(ctx context.Context, after int64, limit int) ([]commitDoc, error) {
	if l.cur == nil || after != l.at {
		if err := l.open(ctx, after, limit); err != nil {
			return nil, err
		}
	}
	page := make([]commitDoc, 0, limit)
	last, reopened := after, false
	for len(page) < limit {
		if l.cur.Next(ctx) {
			var d commitDoc
			if err := l.cur.Decode(&d); err != nil {
				l.close()
				return nil, err
			}
			page = append(page, d)
			last = d.ID
			continue
		}
		err := l.cur.Err()
		if err == nil {
			break // exhausted
		}
		if !reopened && isCursorNotFound(err) {
			reopened = true
			if err := l.open(ctx, last, limit); err != nil {
				return nil, err
			}
			continue
		}
		l.close()
		return nil, err
	}
	if len(page) < limit {
		l.close()
	} else {
		l.at = last
	}
	return page, nil
}

// open starts a cursor over the entries after a checkpoint.
func (l *commitLog) open(ctx context.Context, after int64, batch int) error {
	l.close()
	cur, err := l.e.commits.Find(ctx,
		bson.D{{Key: fID, Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: fID, Value: 1}}).SetBatchSize(int32(batch)).SetProjection(l.projection()))
	if err != nil {
		return err
	}
	l.cur = cur
	return nil
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
	err := l.e.commits.FindOne(ctx, bson.D{{Key: fID, Value: cp}}, options.FindOne().SetProjection(l.projection())).Decode(&d)
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
