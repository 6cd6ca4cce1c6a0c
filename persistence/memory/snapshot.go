package memory

import (
	"context"
	"sort"
	"strconv"

	"github.com/goeventstore/eventstore/persistence/driver"
	"github.com/goeventstore/eventstore/persistence/internal/engines"
)

// AddSnapshot stores s, replacing a snapshot of the stream at the same
// revision. The stream must hold a commit containing s.StreamRevision.
func (e *engine) AddSnapshot(_ context.Context, s driver.Snapshot) error {
	sh := e.shard(s.StreamID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	str := sh.find(s.BucketID, s.StreamID)
	if str == nil || !str.holds(s.StreamRevision) {
		return driver.ErrStreamNotFound
	}
	i := snapAbove(str.snaps, s.StreamRevision-1)
	if i < len(str.snaps) && str.snaps[i].StreamRevision == s.StreamRevision {
		str.snaps[i] = s
		return nil
	}
	str.snaps = append(str.snaps, driver.Snapshot{})
	copy(str.snaps[i+1:], str.snaps[i:])
	str.snaps[i] = s
	return nil
}

// snapAbove returns the index of the first snapshot above rev.
func snapAbove(snaps []driver.Snapshot, rev int) int {
	return sort.Search(len(snaps), func(i int) bool { return snaps[i].StreamRevision > rev })
}

// LatestSnapshot returns the stream's snapshot with the greatest revision at
// or below maxRevision.
func (e *engine) LatestSnapshot(_ context.Context, bucketID, streamID string, maxRevision int) (driver.Snapshot, error) {
	sh := e.shard(streamID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.find(bucketID, streamID)
	if s == nil {
		return driver.Snapshot{}, driver.ErrSnapshotNotFound
	}
	i := snapAbove(s.snaps, maxRevision)
	if i == 0 {
		return driver.Snapshot{}, driver.ErrSnapshotNotFound
	}
	return s.snaps[i-1], nil
}

// StreamsToSnapshot returns the heads of a page of the bucket's streams, in
// creation order, that are at least q.Threshold revisions past their latest
// snapshot. The cursor is the serial of the last stream examined.
func (e *engine) StreamsToSnapshot(_ context.Context, q driver.HeadQuery) ([]driver.StreamHead, string, error) {
	after, err := engines.IntCursor(name, q.Cursor)
	if err != nil {
		return nil, "", err
	}
	// Take a page of streams from the bucket's index under engine.mu, then
	// read each under its shard's lock.
	e.mu.RLock()
	b := e.st.buckets[q.BucketID]
	if b == nil {
		e.mu.RUnlock()
		return nil, "", nil
	}
	lo := sort.Search(len(b.order), func(i int) bool { return b.order[i].serial > uint64(after) })
	hi := min(len(b.order), lo+q.Limit)
	streams := append([]*stream(nil), b.order[lo:hi]...)
	more := hi < len(b.order)
	e.mu.RUnlock()

	var heads []driver.StreamHead
	for _, s := range streams {
		s.sh.mu.Lock()
		if !s.deleted {
			snap := 0
			if n := len(s.snaps); n > 0 {
				snap = s.snaps[n-1].StreamRevision
			}
			if s.head-snap >= q.Threshold {
				heads = append(heads, driver.StreamHead{BucketID: q.BucketID, StreamID: s.id, HeadRevision: s.head, SnapshotRevision: snap})
			}
		}
		s.sh.mu.Unlock()
	}
	next := ""
	if more && len(streams) > 0 {
		next = strconv.FormatUint(streams[len(streams)-1].serial, 10)
	}
	return heads, next, nil
}
