package memory

import "github.com/goeventstore/eventstore/persistence"

// compactMin is how many dead entries an index must hold before it is
// compacted; it is compacted once they are also half of it, so compaction
// costs O(1) amortized per removal.
const compactMin = 32

// state is everything an engine holds, guarded by Engine.mu.
type state struct {
	log     commitLog
	buckets map[string]*bucket
	serial  uint64 // last stream serial handed out

	// und lists the checkpoints of undispatched commits in increasing
	// order. It may also hold checkpoints since dispatched or deleted;
	// undDead counts them.
	und     []int64
	undDead int

	last *stream // the stream committed to last: a cache for Commit
}

// reset empties the state; checkpoints continue after lastCheckpoint.
func (st *state) reset(lastCheckpoint int64) {
	*st = state{log: commitLog{base: lastCheckpoint}, buckets: map[string]*bucket{}}
}

// bucket holds one bucket's streams and its commits in checkpoint order.
type bucket struct {
	id      string
	streams map[string]*stream

	// order lists the streams by serial (creation order), for
	// StreamsToSnapshot; it may hold deleted streams, orderDead counts them.
	order     []*stream
	orderDead int

	// cps lists the bucket's checkpoints in increasing order, for
	// ReadBucket; it may hold deleted ones, cpsDead counts them.
	cps     []int64
	cpsDead int
}

// stream holds one stream's commits in commit sequence order.
type stream struct {
	b       *bucket
	id      string
	serial  uint64
	refs    []ref
	ids     map[persistence.UUID]struct{} // commit IDs, built once the stream is long
	head    int                           // greatest revision stored
	ordered bool                          // revision ranges increase with sequence: binary search works
	deleted bool
	snaps   []persistence.Snapshot // by revision
	first   [1]ref                 // storage for the first commit's ref
}

// ref locates one commit of a stream.
type ref struct {
	seq   int
	first int // revision of the first event
	rev   int // revision of the last event
	cp    int64
	id    persistence.UUID
}

// smallStream is the number of commits up to which commit IDs are checked by
// a linear scan of refs rather than a map.
const smallStream = 16

// lookup returns the live stream, or nil.
func (st *state) lookup(bucketID, streamID string) *stream {
	s, _ := st.find(bucketID, streamID)
	return s
}

// find returns the live stream, or nil, and its bucket, or nil.
func (st *state) find(bucketID, streamID string) (*stream, *bucket) {
	if s := st.last; s != nil && s.id == streamID && s.b.id == bucketID {
		return s, s.b
	}
	b := st.buckets[bucketID]
	if b == nil {
		return nil, nil
	}
	return b.streams[streamID], b
}

// create makes a new, empty stream in bucket b (nil: a new bucket).
func (st *state) create(b *bucket, bucketID, streamID string) *stream {
	if b == nil {
		b = &bucket{id: bucketID, streams: map[string]*stream{}}
		st.buckets[bucketID] = b
	}
	st.serial++
	s := &stream{b: b, id: streamID, serial: st.serial, ordered: true}
	s.refs = s.first[:0] // no second allocation for the usual short stream
	b.streams[streamID] = s
	b.order = append(b.order, s)
	return s
}

// hasID reports whether the stream holds a commit with commit ID id.
func (s *stream) hasID(id persistence.UUID) bool {
	if s.ids != nil {
		_, ok := s.ids[id]
		return ok
	}
	for i := range s.refs {
		if s.refs[i].id == id {
			return true
		}
	}
	return false
}

// findSeq returns the index of the commit with sequence seq, or where it
// would go, and whether it is there.
func (s *stream) findSeq(seq int) (int, bool) {
	n := len(s.refs)
	if n == 0 || s.refs[n-1].seq < seq {
		return n, false // the usual case: a new head
	}
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.refs[m].seq < seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < n && s.refs[lo].seq == seq
}

// afterSeq returns the index of the first commit with a sequence above seq.
func (s *stream) afterSeq(seq int) int {
	i, found := s.findSeq(seq)
	if found {
		i++
	}
	return i
}

// fromRevision returns the index of the first commit whose last revision is
// at least rev. Only meaningful when s.ordered.
func (s *stream) fromRevision(rev int) int {
	lo, hi := 0, len(s.refs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.refs[m].rev < rev {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// insert records a commit at index i (from findSeq).
func (s *stream) insert(i int, r ref) {
	if i == len(s.refs) {
		if i > 0 && s.refs[i-1].rev >= r.first {
			s.ordered = false
		}
		s.refs = append(s.refs, r)
	} else {
		if (i > 0 && s.refs[i-1].rev >= r.first) || s.refs[i].first <= r.rev {
			s.ordered = false
		}
		s.refs = append(s.refs, ref{})
		copy(s.refs[i+1:], s.refs[i:])
		s.refs[i] = r
	}
	s.head = max(s.head, r.rev)
	switch {
	case s.ids != nil:
		s.ids[r.id] = struct{}{}
	case len(s.refs) > smallStream:
		s.ids = make(map[persistence.UUID]struct{}, 2*len(s.refs))
		for j := range s.refs {
			s.ids[s.refs[j].id] = struct{}{}
		}
	}
}

// holds reports whether some commit of the stream contains revision rev.
func (s *stream) holds(rev int) bool {
	if s.ordered {
		i := s.fromRevision(rev)
		return i < len(s.refs) && s.refs[i].first <= rev
	}
	for i := range s.refs {
		if s.refs[i].first <= rev && rev <= s.refs[i].rev {
			return true
		}
	}
	return false
}

// removeCommit deletes the commit at checkpoint cp from the log and from the
// undispatched list; the bucket's cps is the caller's business.
func (st *state) removeCommit(cp int64) {
	if st.log.remove(cp) {
		st.undDead++
	}
}

// removeStream deletes a stream with its commits and snapshots.
func (st *state) removeStream(s *stream) {
	b := s.b
	for i := range s.refs {
		st.removeCommit(s.refs[i].cp)
	}
	b.cpsDead += len(s.refs)
	s.deleted = true
	s.refs, s.ids, s.snaps = nil, nil, nil
	delete(b.streams, s.id)
	b.orderDead++
	if st.last == s {
		st.last = nil
	}
	if len(b.streams) == 0 {
		delete(st.buckets, b.id)
	} else {
		b.compact(&st.log)
	}
	st.compactUnd()
}

// compact drops dead entries from the bucket's indexes once they are many.
func (b *bucket) compact(l *commitLog) {
	if b.cpsDead >= compactMin && 2*b.cpsDead >= len(b.cps) {
		live := b.cps[:0]
		for _, cp := range b.cps {
			if l.at(cp) != nil {
				live = append(live, cp)
			}
		}
		clear(b.cps[len(live):])
		b.cps, b.cpsDead = live, 0
	}
	if b.orderDead >= compactMin && 2*b.orderDead >= len(b.order) {
		live := b.order[:0]
		for _, s := range b.order {
			if !s.deleted {
				live = append(live, s)
			}
		}
		clear(b.order[len(live):])
		b.order, b.orderDead = live, 0
	}
}

// compactUnd drops dispatched and deleted commits from the undispatched
// list once they are many.
func (st *state) compactUnd() {
	if st.undDead < compactMin || 2*st.undDead < len(st.und) {
		return
	}
	live := st.und[:0]
	for _, cp := range st.und {
		if en := st.log.at(cp); en != nil && !en.dispatched {
			live = append(live, cp)
		}
	}
	st.und, st.undDead = live, 0
}

// searchAfter returns the index of the first element of cps above after.
func searchAfter(cps []int64, after int64) int {
	lo, hi := 0, len(cps)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cps[m] <= after {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
