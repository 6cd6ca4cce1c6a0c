package memory

import (
	"context"
)

// DeleteStream removes a stream's commits and snapshots. Their checkpoints
// are never reused.
func (e *engine) DeleteStream(_ context.Context, bucketID, streamID string) error {
	sh := e.shard(streamID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s := sh.find(bucketID, streamID); s != nil {
		e.mu.Lock()
		e.st.removeStream(s)
		e.mu.Unlock()
	}
	return nil
}

// PurgeBucket removes every commit and snapshot of one bucket. Their
// checkpoints are never reused.
func (e *engine) PurgeBucket(_ context.Context, bucketID string) error {
	e.lockAll() // its streams may be in any shard
	defer e.unlockAll()
	st := &e.st
	b := st.buckets[bucketID]
	if b == nil {
		return nil
	}
	for _, cp := range b.cps {
		st.removeCommit(cp)
	}
	for _, s := range b.order {
		if !s.deleted {
			s.drop()
		}
	}
	delete(st.buckets, bucketID)
	st.compactUnd()
	return nil
}
