package mysql

import (
	"context"
	"iter"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// ReadStream yields the stream's commits holding revisions in [minRevision,
// maxRevision], in commit sequence order, a page at a time on ux_sequence
// (keyset paging on the commit sequence, never OFFSET).
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
		afterSeq := 0
		for {
			var args []any
			query := e.q.readStream
			if maxRevision > 0 {
				query = e.q.readStreamBounded
				args = []any{bucketKey, streamKey, afterSeq, minRevision, maxRevision, e.opts.PageSize}
			} else {
				args = []any{bucketKey, streamKey, afterSeq, minRevision, e.opts.PageSize}
			}
			page, err := e.readStreamPage(ctx, query, args, bucketID, streamID)
			if err != nil {
				yield(persistence.Commit{}, streamErr(err))
				return
			}
			for i := range page {
				if !yield(page[i], nil) {
					return
				}
			}
			if len(page) < e.opts.PageSize {
				return
			}
			afterSeq = page[len(page)-1].CommitSequence
		}
	}
}

// readStreamPage reads one page of a stream. Bucket and stream IDs are not
// selected: they are the ones asked for.
func (e *Engine) readStreamPage(ctx context.Context, query string, args []any, bucketID, streamID string) ([]persistence.Commit, error) {
	rows, err := e.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := make([]persistence.Commit, 0, e.opts.PageSize)
	var commitID []byte
	var stamp int64
	for rows.Next() {
		var c persistence.Commit
		if err := rows.Scan(&c.Checkpoint, &c.StreamRevision, &c.EventCount, &commitID, &c.CommitSequence, &stamp, &c.Payload); err != nil {
			return nil, err
		}
		c.BucketID, c.StreamID = bucketID, streamID
		c.CommitStamp = time.UnixMicro(stamp).UTC()
		copy(c.CommitID[:], commitID)
		page = append(page, c)
	}
	return page, rows.Err()
}
