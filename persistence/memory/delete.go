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
	sh := e.shard(bucketID, streamID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e.closed.Load() {
		return streamError("delete stream", bucketID, streamID, 0, persistence.ErrClosed)
	}
	if s := sh.find(bucketID, streamID); s != nil {
		e.mu.Lock()
		e.st.removeStream(s)
		e.mu.Unlock()
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
	e.lockAll() // its streams may be in any shard
	defer e.unlockAll()
	if e.closed.Load() {
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
		if s.deleted {
			continue
		}
		s.deleted = true
		s.refs, s.ids, s.snaps = nil, nil, nil
		s.unlink()
	}
	delete(st.buckets, bucketID)
	st.compactUnd()
	return nil
}
