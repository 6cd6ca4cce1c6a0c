package mongo

import (
	"context"
	"iter"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/persistence"
)

// ReadStream yields the stream's commits holding an event in
// [minRevision, maxRevision], in commit sequence order, through the
// stream_sequence index: one query, then a getMore per PageSize commits.
// Revisions grow with the commit sequence, so the read stops at the first
// commit that starts past maxRevision.
func (e *Engine) ReadStream(ctx context.Context, bucketID, streamID string, minRevision, maxRevision int) iter.Seq2[persistence.Commit, error] {
	if err := validateStream(bucketID, streamID); err != nil {
		return fail[persistence.Commit](err)
	}
	if err := persistence.ValidateRange(minRevision, maxRevision); err != nil {
		return fail[persistence.Commit](err)
	}
	filter := bson.D{{Key: fKey, Value: streamKey(bucketID, streamID)}}
	if minRevision > 0 {
		filter = append(filter, bson.E{Key: fRev, Value: bson.D{{Key: "$gte", Value: int64(minRevision)}}})
	}
	var past func(*commitDoc) bool
	if maxRevision > 0 {
		past = func(d *commitDoc) bool { return d.first() > int64(maxRevision) }
	}
	return e.readCommits(ctx, "read stream", func() (*mongo.Cursor, error) {
		return e.commits.Find(ctx, filter, options.Find().
			SetSort(bson.D{{Key: fSeq, Value: 1}}).
			SetBatchSize(int32(e.opts.PageSize)))
	}, past)
}

// Undispatched yields the commits not yet marked dispatched, in checkpoint
// order, through the undispatched index. Tombstones never carry the flag.
func (e *Engine) Undispatched(ctx context.Context) iter.Seq2[persistence.Commit, error] {
	return e.readCommits(ctx, "undispatched", func() (*mongo.Cursor, error) {
		return e.commits.Find(ctx, bson.D{{Key: fUndispatched, Value: true}}, options.Find().
			SetSort(bson.D{{Key: fUndispatched, Value: 1}, {Key: fID, Value: 1}}).
			SetBatchSize(int32(e.opts.PageSize)))
	}, nil)
}

// MarkDispatched removes the undispatched flag of c. A commit marked twice,
// or deleted since, is no error.
func (e *Engine) MarkDispatched(ctx context.Context, c persistence.Commit) error {
	if err := e.gate.enter(); err != nil {
		return err
	}
	defer e.gate.leave()
	_, err := e.commits.UpdateOne(ctx,
		bson.D{{Key: fID, Value: c.Checkpoint}, {Key: fUndispatched, Value: true}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: fUndispatched, Value: ""}}}})
	return storageError(ctx, "mark dispatched", err)
}

func validateStream(bucketID, streamID string) error {
	if err := persistence.ValidateID("BucketID", bucketID); err != nil {
		return err
	}
	return persistence.ValidateID("StreamID", streamID)
}

// fail returns a sequence that yields err once.
func fail[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}
