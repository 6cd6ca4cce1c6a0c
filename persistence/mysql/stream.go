package mysql

import (
	"context"
	"iter"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// pageBudget bounds the payload bytes of a stream read page that may still
// grow: see ReadStream.
const pageBudget = 4 << 20

// ReadStream yields the stream's commits holding revisions in [minRevision,
// maxRevision], in commit sequence order, a page at a time on ux_sequence
// (keyset paging on the commit sequence, never OFFSET).
//
// The first page holds PageSize commits; while pages come back full and
// their payloads total less than pageBudget, the next page is twice as
// large, up to 8*PageSize: a long stream of small commits then costs a few
// round trips rather than one per PageSize commits.
func (e *Engine) ReadStream(ctx context.Context, bucketID, streamID string, minRevision, maxRevision int) iter.Seq2[persistence.Commit, error] {
	return func(yield func(persistence.Commit, error) bool) {
		for _, err := range []error{
			persistence.ValidateID("BucketID", bucketID),
			persistence.ValidateID("StreamID", streamID),
			persistence.ValidateRange(minRevision, maxRevision),
		} {
			if err != nil {
				yield(persistence.Commit{}, err)
				return
			}
		}
		done, err := e.enter(ctx, "read stream")
		if err != nil {
			yield(persistence.Commit{}, err)
			return
		}
		defer done()
		bucketKey, streamKey := idKey(bucketID), idKey(streamID)
		streamErr := func(err error) error {
			return &persistence.StreamError{Op: "read stream", BucketID: bucketID, StreamID: streamID, Revision: minRevision, Err: fail(ctx, "read stream", err)}
		}
		afterSeq, limit := 0, e.opts.PageSize
		for {
			var args []any
			query := e.q.readStream
			if maxRevision > 0 {
				query = e.q.readStreamBounded
				args = []any{bucketKey, streamKey, afterSeq, minRevision, maxRevision, limit}
			} else {
				args = []any{bucketKey, streamKey, afterSeq, minRevision, limit}
			}
			page, bytes, err := e.readStreamPage(ctx, query, args, limit, bucketID, streamID)
			if err != nil {
				yield(persistence.Commit{}, streamErr(err))
				return
			}
			for i := range page {
				if !yield(page[i], nil) {
					return
				}
			}
			if len(page) < limit {
				return
			}
			afterSeq = page[len(page)-1].CommitSequence
			if bytes < pageBudget && limit < 8*e.opts.PageSize {
				limit *= 2
			}
		}
	}
}

// readStreamPage reads one page of a stream. Bucket and stream IDs are not
// selected: they are the ones asked for.
func (e *Engine) readStreamPage(ctx context.Context, query string, args []any, limit int, bucketID, streamID string) (page []persistence.Commit, bytes int, err error) {
	rows, err := e.query(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	page = make([]persistence.Commit, 0, limit)
	var commitID []byte
	var stamp int64
	for rows.Next() {
		var c persistence.Commit
		if err := rows.Scan(&c.Checkpoint, &c.StreamRevision, &c.EventCount, &commitID, &c.CommitSequence, &stamp, &c.Payload); err != nil {
			return nil, 0, err
		}
		bytes += len(c.Payload)
		c.BucketID, c.StreamID = bucketID, streamID
		c.CommitStamp = time.UnixMicro(stamp).UTC()
		copy(c.CommitID[:], commitID)
		page = append(page, c)
	}
	return page, bytes, rows.Err()
}
