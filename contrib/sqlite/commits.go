package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Commit inserts the commit in one statement: SQLite assigns the checkpoint
// and makes the row visible in the same write transaction, under the
// database's single write lock. The unique keys refuse a taken sequence or
// commit ID; which one was taken is then looked up, the commit ID first
// (a duplicate takes precedence over a conflict).
func (e *engine) Commit(ctx context.Context, a *driver.CommitAttempt) (driver.Commit, error) {
	res, err := e.db.ExecContext(ctx, `INSERT INTO eventstore_commits
		(bucket, stream, sequence, commit_id, revision, items, stamp, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.BucketID, a.StreamID, a.CommitSequence, a.CommitID[:], a.StreamRevision, a.EventCount, a.CommitStamp.UnixMicro(), a.Payload)
	if se := (*sqlite.Error)(nil); errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		var dup bool
		if err := e.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM eventstore_commits WHERE bucket = ? AND stream = ? AND commit_id = ?)`,
			a.BucketID, a.StreamID, a.CommitID[:]).Scan(&dup); err != nil {
			return driver.Commit{}, err
		}
		if dup {
			return driver.Commit{}, driver.ErrDuplicateCommit
		}
		return driver.Commit{}, driver.ErrConcurrency
	}
	if err != nil {
		return driver.Commit{}, err
	}
	c := driver.Commit{CommitAttempt: *a}
	c.Checkpoint, err = res.LastInsertId()
	return c, err
}

const commitColumns = `SELECT checkpoint, bucket, stream, sequence, commit_id, revision, items, stamp, payload FROM eventstore_commits `

// ReadStream reads a page of the stream on its (bucket, stream, sequence) key.
func (e *engine) ReadStream(ctx context.Context, q driver.StreamQuery) ([]driver.Commit, error) {
	return e.commits(ctx, commitColumns+`WHERE bucket = ? AND stream = ? AND sequence > ?
		AND revision >= ? AND revision - items < ? ORDER BY sequence LIMIT ?`,
		q.BucketID, q.StreamID, q.AfterSequence, q.MinRevision, q.MaxRevision, q.Limit)
}

// ReadCommits reads a page in checkpoint order, on the rowid or, for one
// bucket, on (bucket, checkpoint). Every statement reads one snapshot of the
// database, in which checkpoints were made visible in increasing order: no
// commit can appear later below one it returned.
func (e *engine) ReadCommits(ctx context.Context, q driver.CommitQuery) ([]driver.Commit, error) {
	if q.BucketID == "" {
		return e.commits(ctx, commitColumns+`WHERE checkpoint > ? ORDER BY checkpoint LIMIT ?`, q.After, q.Limit)
	}
	return e.commits(ctx, commitColumns+`WHERE bucket = ? AND checkpoint > ? ORDER BY checkpoint LIMIT ?`, q.BucketID, q.After, q.Limit)
}

// Undispatched reads a page of the partial index of undispatched commits.
func (e *engine) Undispatched(ctx context.Context, after int64, limit int) ([]driver.Commit, error) {
	return e.commits(ctx, commitColumns+`WHERE dispatched = 0 AND checkpoint > ? ORDER BY checkpoint LIMIT ?`, after, limit)
}

// MarkDispatched sets the flag, which takes the commit out of the partial
// index. The commit ID guards against a checkpoint reused after Drop.
func (e *engine) MarkDispatched(ctx context.Context, c driver.Commit) error {
	_, err := e.db.ExecContext(ctx, `UPDATE eventstore_commits SET dispatched = 1 WHERE checkpoint = ? AND commit_id = ? AND dispatched = 0`,
		c.Checkpoint, c.CommitID[:])
	return err
}

// Head reads the greatest rowid, one seek.
func (e *engine) Head(ctx context.Context) (int64, error) {
	var head sql.NullInt64
	err := e.db.QueryRowContext(ctx, `SELECT MAX(checkpoint) FROM eventstore_commits`).Scan(&head)
	return head.Int64, err
}

// commits runs a query of commitColumns and returns its rows.
func (e *engine) commits(ctx context.Context, query string, args ...any) ([]driver.Commit, error) {
	rows, err := e.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var page []driver.Commit
	for rows.Next() {
		var c driver.Commit
		var id []byte
		var stamp int64
		if err := rows.Scan(&c.Checkpoint, &c.BucketID, &c.StreamID, &c.CommitSequence, &id,
			&c.StreamRevision, &c.EventCount, &stamp, &c.Payload); err != nil {
			return nil, err
		}
		copy(c.CommitID[:], id)
		c.CommitStamp = time.UnixMicro(stamp).UTC()
		page = append(page, c)
	}
	return page, rows.Err()
}
