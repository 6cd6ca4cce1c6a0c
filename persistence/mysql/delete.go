package mysql

import (
	"context"
)

// Deleting. Commits are not deleted but turned into tombstones (every column
// but the checkpoint set to NULL), in batches, so that no transaction grows
// with the stream. A deleted row would leave a hole that the next
// checkpoint reader has to settle with a tombstone of its own; the UPDATE
// leaves the tombstone in place at once. Snapshots are deleted.

// DeleteStream turns the stream's commits into tombstones and deletes its
// snapshots. A stream that does not exist is not an error.
func (e *engine) DeleteStream(ctx context.Context, bucketID, streamID string) error {
	bk, sk := idKey(bucketID), idKey(streamID)
	if err := e.batches(ctx, sqlTombstoneStream, bk, sk); err != nil {
		return err
	}
	_, err := e.exec(ctx, sqlDeleteStreamSnapshots, bk, sk)
	return err
}

// PurgeBucket turns the bucket's commits into tombstones and deletes its
// snapshots.
func (e *engine) PurgeBucket(ctx context.Context, bucketID string) error {
	bk := idKey(bucketID)
	if err := e.batches(ctx, sqlTombstoneBucket, bk); err != nil {
		return err
	}
	return e.batches(ctx, sqlDeleteBucketSnaps, bk)
}

// Purge empties both tables, without handing any checkpoint out again. It
// does not TRUNCATE, which would restart AUTO_INCREMENT at 1. Instead:
//
//  1. it records the greatest checkpoint, top, as the purge floor
//     (schema.purged): readers never claim a hole at or below it, since
//     every commit there is gone for good;
//  2. it deletes every row below top, in batches, and turns the row at top
//     into a tombstone, which it keeps: AUTO_INCREMENT only grows, and a
//     server that recomputes it from MAX(checkpoint) at restart (InnoDB
//     before MySQL 8 and MariaDB 10.2.4) still starts above top.
//
// Commits made while Purge runs get checkpoints above top and are kept.
func (e *engine) Purge(ctx context.Context) error {
	var top int64
	if err := e.queryRow(ctx, sqlTop, nil, &top); err != nil {
		return err
	}
	if top > 0 {
		if _, err := e.exec(ctx, sqlRaiseFloor, top); err != nil {
			return err
		}
		if err := e.batches(ctx, sqlPurgeBelow, top); err != nil {
			return err
		}
		if _, err := e.exec(ctx, sqlTombstoneAt, top); err != nil {
			return err
		}
	}
	return e.batches(ctx, sqlPurgeSnapshots)
}

// batches runs a statement with LIMIT batchSize until it affects fewer
// rows.
func (e *engine) batches(ctx context.Context, query string, args ...any) error {
	for {
		res, err := e.exec(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n < batchSize {
			return nil
		}
	}
}
