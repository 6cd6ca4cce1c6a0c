package mysql

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"math"

	"github.com/goeventstore/eventstore/persistence"
)

// AddSnapshot stores s, replacing a snapshot at the same revision, in one
// REPLACE ... SELECT that finds the commit holding s.StreamRevision: if the
// stream has none, nothing is inserted and it returns ErrStreamNotFound.
func (e *Engine) AddSnapshot(ctx context.Context, s persistence.Snapshot) error {
	if err := persistence.ValidateSnapshot(&s); err != nil {
		return err
	}
	done, err := e.enter(ctx, "add snapshot")
	if err != nil {
		return err
	}
	defer done()
	streamErr := func(err error) error {
		return &persistence.StreamError{Op: "add snapshot", BucketID: s.BucketID, StreamID: s.StreamID, Revision: s.StreamRevision, Err: err}
	}
	bk, sk := idKey(s.BucketID), idKey(s.StreamID)
	res, err := e.exec(ctx, e.q.addSnapshot, bk, sk, s.StreamRevision, s.BucketID, s.StreamID, s.Payload,
		bk, sk, s.StreamRevision, s.StreamRevision)
	if err != nil {
		return streamErr(fail(ctx, "add snapshot", err))
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return nil
	}
	// 0 rows: no commit holds the revision, or the snapshot was already
	// stored with this very payload (an unchanged row may count 0).
	n, err := e.count(ctx, e.q.snapshotCommitExists, bk, sk, s.StreamRevision, s.StreamRevision)
	if err != nil {
		return streamErr(fail(ctx, "add snapshot", err))
	}
	if n == 0 {
		return streamErr(persistence.ErrStreamNotFound)
	}
	return nil
}

// LatestSnapshot returns the stream's snapshot with the greatest revision at
// or below maxRevision (no bound if maxRevision <= 0).
func (e *Engine) LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (persistence.Snapshot, error) {
	if err := persistence.ValidateID("BucketID", bucketID); err != nil {
		return persistence.Snapshot{}, err
	}
	if err := persistence.ValidateID("StreamID", streamID); err != nil {
		return persistence.Snapshot{}, err
	}
	done, err := e.enter(ctx, "latest snapshot")
	if err != nil {
		return persistence.Snapshot{}, err
	}
	defer done()
	if maxRevision <= 0 {
		maxRevision = math.MaxInt32
	}
	streamErr := func(err error) error {
		return &persistence.StreamError{Op: "latest snapshot", BucketID: bucketID, StreamID: streamID, Revision: maxRevision, Err: err}
	}
	st, err := e.stmt(ctx, e.q.latestSnapshot)
	if err != nil {
		return persistence.Snapshot{}, streamErr(fail(ctx, "latest snapshot", err))
	}
	var s persistence.Snapshot
	err = st.QueryRowContext(ctx, idKey(bucketID), idKey(streamID), maxRevision).Scan(&s.BucketID, &s.StreamID, &s.StreamRevision, &s.Payload)
	if errors.Is(err, sql.ErrNoRows) {
		return persistence.Snapshot{}, streamErr(persistence.ErrSnapshotNotFound)
	}
	if err != nil {
		return persistence.Snapshot{}, streamErr(fail(ctx, "latest snapshot", err))
	}
	return s, nil
}

// StreamsToSnapshot yields the heads of the bucket's streams at least
// threshold revisions past their latest snapshot. It pages through the
// bucket's streams in stream_key order: per page, the last commit of each
// stream comes from ux_sequence (MAX(commit_sequence) per stream) and the
// latest snapshot from the snapshots primary key. There is no stream-head
// table: keeping one would cost every commit a second write.
func (e *Engine) StreamsToSnapshot(ctx context.Context, bucketID string, threshold int) iter.Seq2[persistence.StreamHead, error] {
	return func(yield func(persistence.StreamHead, error) bool) {
		if err := persistence.ValidateID("BucketID", bucketID); err != nil {
			yield(persistence.StreamHead{}, err)
			return
		}
		done, err := e.enter(ctx, "streams to snapshot")
		if err != nil {
			yield(persistence.StreamHead{}, err)
			return
		}
		defer done()
		bk := idKey(bucketID)
		last := []byte{}
		for {
			page, next, err := e.streamHeads(ctx, bk, last)
			if err != nil {
				yield(persistence.StreamHead{}, fail(ctx, "streams to snapshot", err))
				return
			}
			for _, h := range page {
				if h.HeadRevision-h.SnapshotRevision < threshold {
					continue
				}
				if !yield(h, nil) {
					return
				}
			}
			if next == nil {
				return
			}
			last = next
		}
	}
}

// streamHeads reads one page of stream heads after stream key last; next is
// the key to continue from, nil at the end.
func (e *Engine) streamHeads(ctx context.Context, bucketKey, last []byte) (page []persistence.StreamHead, next []byte, err error) {
	rows, err := e.query(ctx, e.q.streamHeads, bucketKey, last, e.opts.PageSize)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var h persistence.StreamHead
		var key []byte
		if err := rows.Scan(&key, &h.BucketID, &h.StreamID, &h.HeadRevision, &h.SnapshotRevision); err != nil {
			return nil, nil, err
		}
		page = append(page, h)
		next = key
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(page) < e.opts.PageSize {
		next = nil
	}
	return page, next, nil
}
