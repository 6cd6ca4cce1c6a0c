package memory

import (
	"context"
	"iter"

	"github.com/goeventstore/eventstore/persistence"
)

// AddSnapshot stores s, replacing a snapshot of the stream at the same
// revision. The stream must hold a commit containing s.StreamRevision.
func (e *Engine) AddSnapshot(ctx context.Context, s persistence.Snapshot) error {
	if err := persistence.ValidateSnapshot(&s); err != nil {
		return err
	}
	fail := func(err error) error {
		return streamError("add snapshot", s.BucketID, s.StreamID, s.StreamRevision, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	sh := e.shard(s.BucketID, s.StreamID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e.closed.Load() {
		return fail(persistence.ErrClosed)
	}
	str := sh.find(s.BucketID, s.StreamID)
	if str == nil || !str.holds(s.StreamRevision) {
		return fail(persistence.ErrStreamNotFound)
	}
	i := snapIndex(str.snaps, s.StreamRevision)
	if i < len(str.snaps) && str.snaps[i].StreamRevision == s.StreamRevision {
		str.snaps[i] = s
		return nil
	}
	str.snaps = append(str.snaps, persistence.Snapshot{})
	copy(str.snaps[i+1:], str.snaps[i:])
	str.snaps[i] = s
	return nil
}

// snapIndex returns the index of the first snapshot at or above rev.
func snapIndex(snaps []persistence.Snapshot, rev int) int {
	lo, hi := 0, len(snaps)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if snaps[m].StreamRevision < rev {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// LatestSnapshot returns the stream's snapshot with the greatest revision at
// or below maxRevision (no bound if maxRevision <= 0).
func (e *Engine) LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (persistence.Snapshot, error) {
	if err := validateStream(bucketID, streamID); err != nil {
		return persistence.Snapshot{}, err
	}
	fail := func(err error) error { return streamError("latest snapshot", bucketID, streamID, maxRevision, err) }
	if err := ctx.Err(); err != nil {
		return persistence.Snapshot{}, fail(err)
	}
	sh := e.shard(bucketID, streamID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e.closed.Load() {
		return persistence.Snapshot{}, fail(persistence.ErrClosed)
	}
	s := sh.find(bucketID, streamID)
	if s == nil || len(s.snaps) == 0 {
		return persistence.Snapshot{}, fail(persistence.ErrSnapshotNotFound)
	}
	i := len(s.snaps)
	if maxRevision > 0 {
		i = snapIndex(s.snaps, maxRevision+1)
	}
	if i == 0 {
		return persistence.Snapshot{}, fail(persistence.ErrSnapshotNotFound)
	}
	return s.snaps[i-1], nil
}

// StreamsToSnapshot yields the heads of the bucket's streams at least
// threshold revisions past their latest snapshot, in creation order.
func (e *Engine) StreamsToSnapshot(ctx context.Context, bucketID string, threshold int) iter.Seq2[persistence.StreamHead, error] {
	return func(yield func(persistence.StreamHead, error) bool) {
		if err := persistence.ValidateID("BucketID", bucketID); err != nil {
			yield(persistence.StreamHead{}, err)
			return
		}
		fail := func(err error) error { return opError("streams to snapshot in bucket "+quote(bucketID), err) }
		var after uint64 // serial of the last stream examined
		var streams []*stream
		pages(e, ctx, yield, fail, func(buf []persistence.StreamHead) ([]persistence.StreamHead, bool, bool) {
			// Take a page of streams from the bucket's index under
			// Engine.mu, then read each under its shard's lock.
			e.mu.RLock()
			if e.closed.Load() {
				e.mu.RUnlock()
				return buf, true, false
			}
			b := e.st.buckets[bucketID]
			if b == nil {
				e.mu.RUnlock()
				return buf, true, true
			}
			lo, hi := 0, len(b.order)
			for lo < hi {
				m := int(uint(lo+hi) >> 1)
				if b.order[m].serial <= after {
					lo = m + 1
				} else {
					hi = m
				}
			}
			hi = min(len(b.order), lo+e.pageSize)
			streams = append(streams[:0], b.order[lo:hi]...)
			done := hi == len(b.order)
			e.mu.RUnlock()

			buf = grow(buf, len(streams))
			for _, s := range streams {
				after = s.serial
				s.sh.mu.Lock()
				if !s.deleted {
					snap := 0
					if n := len(s.snaps); n > 0 {
						snap = s.snaps[n-1].StreamRevision
					}
					if s.head-snap >= threshold {
						buf = append(buf, persistence.StreamHead{BucketID: bucketID, StreamID: s.id, HeadRevision: s.head, SnapshotRevision: snap})
					}
				}
				s.sh.mu.Unlock()
			}
			clear(streams)
			return buf, done, true
		})
	}
}
