package memory

import (
	"context"

	"github.com/goeventstore/eventstore/persistence"
)

// DeleteStream removes a stream's commits and snapshots. Their checkpoints
// are never reused.
func (e *Engine) DeleteStream(ctx context.Context, bucketID, streamID string) error {
	if err := validateStream(bucketID, streamID); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return streamError("delete stream", bucketID, streamID, 0, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return streamError("delete stream", bucketID, streamID, 0, persistence.ErrClosed)
	}
	if s := e.st.lookup(bucketID, streamID); s != nil {
		e.st.removeStream(s)
	}
	return nil
}

// PurgeBucket removes every commit and snapshot of one bucket. Their
// checkpoints are never reused.
func (e *Engine) PurgeBucket(ctx context.Context, bucketID string) error {
	if err := persistence.ValidateID("BucketID", bucketID); err != nil {
		return err
	}
	op := "purge bucket " + quote(bucketID)
	if err := ctx.Err(); err != nil {
		return opError(op, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return opError(op, persistence.ErrClosed)
	}
	st := &e.st
	b := st.buckets[bucketID]
	if b == nil {
		return nil
	}
	for _, cp := range b.cps {
		st.removeCommit(cp)
	}
	for _, s := range b.order {
		s.deleted = true
		s.refs, s.ids, s.snaps = nil, nil, nil
	}
	delete(st.buckets, bucketID)
	if st.last != nil && st.last.b == b {
		st.last = nil
	}
	st.compactUnd()
	return nil
}
