package mysql

import (
	"context"

	"github.com/goeventstore/eventstore/persistence"
)

// Deleting. Commits are not deleted but turned into tombstones (every column
// but the checkpoint set to NULL), in batches of 1000 rows so that no
// transaction grows with the stream. A deleted row would leave a hole that
// the next checkpoint reader has to settle with a tombstone of its own; the
// UPDATE leaves the tombstone in place at once. AUTO_INCREMENT never hands
// the number out again either way. Snapshots are deleted.

// DeleteStream turns the stream's commits into tombstones and deletes its
// snapshots. A stream that does not exist is not an error.
func (e *Engine) DeleteStream(ctx context.Context, bucketID, streamID string) error {
	if err := persistence.ValidateID("BucketID", bucketID); err != nil {
		return err
	}
	if err := persistence.ValidateID("StreamID", streamID); err != nil {
		return err
	}
	done, err := e.enter(ctx, "delete stream")
	if err != nil {
		return err
	}
	defer done()
	bk, sk := idKey(bucketID), idKey(streamID)
	if err := e.batches(ctx, e.q.tombstoneStream, bk, sk); err != nil {
		return &persistence.StreamError{Op: "delete stream", BucketID: bucketID, StreamID: streamID, Err: fail(ctx, "delete stream", err)}
	}
	if _, err := e.exec(ctx, e.q.deleteStreamSnapshots, bk, sk); err != nil {
		return &persistence.StreamError{Op: "delete stream", BucketID: bucketID, StreamID: streamID, Err: fail(ctx, "delete stream", err)}
	}
	return nil
}

// PurgeBucket turns the bucket's commits into tombstones and deletes its
// snapshots.
func (e *Engine) PurgeBucket(ctx context.Context, bucketID string) error {
	if err := persistence.ValidateID("BucketID", bucketID); err != nil {
		return err
	}
	done, err := e.enter(ctx, "purge bucket")
	if err != nil {
		return err
	}
	defer done()
	bk := idKey(bucketID)
	if err := e.batches(ctx, e.q.tombstoneBucket, bk); err != nil {
		return fail(ctx, "purge bucket", err)
	}
	if err := e.batches(ctx, e.q.deleteBucketSnaps, bk); err != nil {
		return fail(ctx, "purge bucket", err)
	}
	return nil
}

// batches runs a statement with LIMIT 1000 until it affects fewer rows.
func (e *Engine) batches(ctx context.Context, query string, args ...any) error {
	for {
		res, err := e.exec(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n < 1000 {
			return nil
		}
	}
}

// Purge empties both tables with TRUNCATE, which also restarts checkpoint
// numbering at 1 (as the contract allows for a full purge).
func (e *Engine) Purge(ctx context.Context) error {
	done, err := e.enter(ctx, "purge")
	if err != nil {
		return err
	}
	defer done()
	for _, t := range []string{"commits", "snapshots"} {
		if _, err := e.db.ExecContext(ctx, "TRUNCATE TABLE `"+e.opts.TablePrefix+t+"`"); err != nil {
			return fail(ctx, "purge", err)
		}
	}
	return nil
}
