package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// AddSnapshot inserts or replaces the snapshot in one statement, which
// inserts nothing unless a commit of the stream holds the revision.
func (e *engine) AddSnapshot(ctx context.Context, s driver.Snapshot) error {
	res, err := e.db.ExecContext(ctx, `INSERT INTO eventstore_snapshots (bucket, stream, revision, payload)
		SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM eventstore_commits
			WHERE bucket = ?1 AND stream = ?2 AND revision >= ?3 AND revision - items < ?3)
		ON CONFLICT (bucket, stream, revision) DO UPDATE SET payload = excluded.payload`,
		s.BucketID, s.StreamID, s.StreamRevision, s.Payload)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 { // modernc.org/sqlite never fails here
		return driver.ErrStreamNotFound
	}
	return nil
}

// LatestSnapshot reads the greatest revision at or below maxRevision on the
// primary key.
func (e *engine) LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (driver.Snapshot, error) {
	s := driver.Snapshot{BucketID: bucketID, StreamID: streamID}
	err := e.db.QueryRowContext(ctx, `SELECT revision, payload FROM eventstore_snapshots
		WHERE bucket = ? AND stream = ? AND revision <= ? ORDER BY revision DESC LIMIT 1`,
		bucketID, streamID, maxRevision).Scan(&s.StreamRevision, &s.Payload)
	if errors.Is(err, sql.ErrNoRows) {
		return s, driver.ErrSnapshotNotFound
	}
	return s, err
}

// StreamsToSnapshot reads a page of stream heads in stream order on the
// (bucket, stream, sequence) key: per stream the revision of its last commit
// (SQLite takes a bare column from the row of the MAX) and its latest
// snapshot's. Streams below the threshold are left out before the LIMIT, so
// the last stream returned is the cursor of the next page.
func (e *engine) StreamsToSnapshot(ctx context.Context, q driver.HeadQuery) ([]driver.StreamHead, string, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT c.stream, c.revision, MAX(c.sequence),
			COALESCE((SELECT MAX(s.revision) FROM eventstore_snapshots s WHERE s.bucket = c.bucket AND s.stream = c.stream), 0) AS snap
		FROM eventstore_commits c WHERE c.bucket = ? AND c.stream > ?
		GROUP BY c.stream HAVING c.revision - snap >= ? ORDER BY c.stream LIMIT ?`,
		q.BucketID, q.Cursor, q.Threshold, q.Limit)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var heads []driver.StreamHead
	for rows.Next() {
		h := driver.StreamHead{BucketID: q.BucketID}
		var seq int
		if err := rows.Scan(&h.StreamID, &h.HeadRevision, &seq, &h.SnapshotRevision); err != nil {
			return nil, "", err
		}
		heads = append(heads, h)
	}
	if len(heads) < q.Limit {
		return heads, "", rows.Err()
	}
	return heads, heads[len(heads)-1].StreamID, rows.Err()
}

// DeleteStream deletes the stream's snapshots and commits in one transaction.
func (e *engine) DeleteStream(ctx context.Context, bucketID, streamID string) error {
	return e.deleteAll(ctx, "WHERE bucket = ? AND stream = ?", bucketID, streamID)
}

// Purge deletes every row. sqlite_sequence keeps the greatest checkpoint.
func (e *engine) Purge(ctx context.Context) error { return e.deleteAll(ctx, "") }

// PurgeBucket deletes the bucket's snapshots and commits in one transaction.
func (e *engine) PurgeBucket(ctx context.Context, bucketID string) error {
	return e.deleteAll(ctx, "WHERE bucket = ?", bucketID)
}

// deleteAll deletes the snapshots and commits that where selects, in one
// transaction whose first statement writes, so that it takes the write lock
// at once (a deferred transaction that read first could not wait for it).
func (e *engine) deleteAll(ctx context.Context, where string, args ...any) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, table := range []string{"eventstore_snapshots", "eventstore_commits"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" "+where, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}
