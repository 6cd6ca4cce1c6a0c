package mysql

import (
	"cmp"
	"context"
	"fmt"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// maxCheckpointRetries bounds how often Commit retries after a reader
// claimed its checkpoint with a tombstone. Each retry takes a new number
// beyond everything visible, so a second loss needs another commit to
// become visible in the meantime; many in a row mean something else is
// wrong.
const maxCheckpointRetries = 32

// Commit stores the attempt with one autocommit INSERT and returns it with
// its checkpoint (the AUTO_INCREMENT value the INSERT got).
//
// The unique keys decide, inside InnoDB, whether the attempt may be stored.
// A refusal is error 1062, naming the key:
//
//   - ux_commit_id: the commit ID is already on the stream: ErrDuplicateCommit.
//   - ux_sequence: the commit sequence is taken. The attempt may be a retry
//     as well (both keys fire; InnoDB reports whichever it checks first), so
//     a SELECT on the commit ID decides: found, ErrDuplicateCommit (it takes
//     precedence), else ErrConcurrency. The row that fired the key is
//     committed by then (InnoDB made the INSERT wait for it), so the SELECT
//     sees it.
//   - PRIMARY: a reader claimed the checkpoint this INSERT was handed, with
//     a tombstone, because a later commit was already visible. Nothing was
//     stored; the INSERT is simply run again and gets a new number.
//
// If the message does not name the key (a translated server message), the
// same questions are asked with SELECTs: commit ID, then sequence, else it
// was the checkpoint.
func (e *engine) Commit(ctx context.Context, a *driver.CommitAttempt) (driver.Commit, error) {
	return e.insert(ctx, sqlInsertCommit, a)
}

// CommitDispatched is Commit with the row's undispatched flag left NULL.
func (e *engine) CommitDispatched(ctx context.Context, a *driver.CommitAttempt) (driver.Commit, error) {
	return e.insert(ctx, sqlInsertDispatched, a)
}

// insert is Commit with insertSQL, one of the two INSERT statements.
func (e *engine) insert(ctx context.Context, insertSQL string, a *driver.CommitAttempt) (driver.Commit, error) {
	bucketKey, streamKey := idKey(a.BucketID), idKey(a.StreamID)
	for range maxCheckpointRetries {
		res, err := e.exec(ctx, insertSQL,
			bucketKey, streamKey, a.CommitSequence, a.CommitID[:], a.StreamRevision, a.EventCount,
			a.CommitStamp.UnixMicro(), a.BucketID, a.StreamID, a.Payload)
		if err == nil {
			cp, err := res.LastInsertId()
			if err != nil {
				return driver.Commit{}, err
			}
			return driver.Commit{CommitAttempt: *a, Checkpoint: cp}, nil
		}
		key, dup := dupKey(err)
		switch {
		case !dup:
			return driver.Commit{}, err
		case key == keyPrimary:
			continue
		case key == keyCommitID:
			return driver.Commit{}, driver.ErrDuplicateCommit
		}
		if n, err := e.count(ctx, sqlCommitIDExists, bucketKey, streamKey, a.CommitID[:]); err != nil || n > 0 {
			return driver.Commit{}, cmp.Or(err, driver.ErrDuplicateCommit)
		}
		if key == keySequence {
			return driver.Commit{}, driver.ErrConcurrency
		}
		if n, err := e.count(ctx, sqlSequenceExists, bucketKey, streamKey, a.CommitSequence); err != nil || n > 0 {
			return driver.Commit{}, cmp.Or(err, driver.ErrConcurrency)
		}
		// Neither: the checkpoint was taken (or the conflicting row was
		// deleted meanwhile). Either way, try again.
	}
	return driver.Commit{}, fmt.Errorf("checkpoint claimed by readers %d times in a row: %w",
		maxCheckpointRetries, driver.ErrStorageUnavailable)
}

// count runs a SELECT COUNT(*) query.
func (e *engine) count(ctx context.Context, query string, args ...any) (n int64, err error) {
	return n, e.queryRow(ctx, query, args, &n)
}
