package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// AddSnapshot stores s, replacing a snapshot at the same revision, in one
// REPLACE ... SELECT that finds the commit holding s.StreamRevision: if the
// stream has none, nothing is inserted and it returns ErrStreamNotFound.
func (e *engine) AddSnapshot(ctx context.Context, s driver.Snapshot) error {
	bk, sk := idKey(s.BucketID), idKey(s.StreamID)
	res, err := e.exec(ctx, sqlAddSnapshot, bk, sk, s.StreamRevision, s.BucketID, s.StreamID, s.Payload,
		bk, sk, s.StreamRevision, s.StreamRevision)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return nil
	}
	// 0 rows: no commit holds the revision, or the snapshot was already
	// stored with this very payload (an unchanged row may count 0).
	n, err := e.count(ctx, sqlSnapshotCommitExists, bk, sk, s.StreamRevision, s.StreamRevision)
	if err != nil {
		return err
	}
	if n == 0 {
		return driver.ErrStreamNotFound
	}
	return nil
}

// LatestSnapshot returns the stream's snapshot with the greatest revision at
// or below maxRevision.
func (e *engine) LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (driver.Snapshot, error) {
	s := driver.Snapshot{BucketID: bucketID, StreamID: streamID}
	err := e.queryRow(ctx, sqlLatestSnapshot, []any{idKey(bucketID), idKey(streamID), maxRevision}, &s.StreamRevision, &s.Payload)
	if errors.Is(err, sql.ErrNoRows) {
		return driver.Snapshot{}, driver.ErrSnapshotNotFound
	}
	if err != nil {
		return driver.Snapshot{}, err
	}
	return s, nil
}

// StreamsToSnapshot returns a page of the heads of the bucket's streams at
// least q.Threshold revisions past their latest snapshot. It pages through
// the bucket's streams in stream_key order, the cursor being the last
// stream key of the page, in hex: per page, the last commit of each stream
// comes from ux_sequence (MAX(commit_sequence) per stream, walked from the
// cursor and stopped after q.Limit streams) and the latest snapshot from the
// snapshots primary key, so a page costs the same wherever the cursor is.
// There is no stream-head table: keeping one would cost every commit a
// second write.
func (e *engine) StreamsToSnapshot(ctx context.Context, q driver.HeadQuery) ([]driver.StreamHead, string, error) {
	after, err := hex.DecodeString(q.Cursor)
	if err != nil || (len(after) != 0 && len(after) != keyLen) {
		return nil, "", fmt.Errorf("mysql: bad stream cursor %q", q.Cursor)
	}
	bk := idKey(q.BucketID)
	type head struct {
		key []byte
		driver.StreamHead
	}
	var page []head
	err = e.each(ctx, sqlStreamHeads, []any{bk, after, q.Limit, bk}, func(rows *sql.Rows) error {
		var h head
		err := rows.Scan(&h.key, &h.BucketID, &h.StreamID, &h.HeadRevision, &h.SnapshotRevision)
		page = append(page, h)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	// The statement leaves the page unordered (see streamHeads).
	slices.SortFunc(page, func(a, b head) int { return bytes.Compare(a.key, b.key) })
	var heads []driver.StreamHead
	for _, h := range page {
		if h.HeadRevision-h.SnapshotRevision >= q.Threshold {
			heads = append(heads, h.StreamHead)
		}
	}
	if len(page) < q.Limit {
		return heads, "", nil
	}
	return heads, hex.EncodeToString(page[len(page)-1].key), nil
}
