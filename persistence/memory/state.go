package memory

import (
	"sort"
	"sync"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// compactMin is how many dead entries an index must hold before it is
// compacted; it is compacted once they are also half of it, so compaction
// costs O(1) amortized per removal.
const compactMin = 32

// undCheckEvery is how often (in appends) a committer looks whether the
// undispatched list, which MarkDispatched thins out without engine.mu, is
// worth compacting. Committers compact it, as they hold engine.mu anyway:
// a dispatcher marking each commit right after it is stored must not take
// engine.mu, or committers would queue behind it. Only once the list holds
// markCompactMin dead entries, which committers leave only when they stop
// committing, does MarkDispatched compact it, if engine.mu is free.
const (
	undCheckEvery  = 1024
	markCompactMin = 4 * undCheckEvery
)

// state is what the engine holds besides its streams' contents, guarded by
// engine.mu (the log's entries are also read by MarkDispatched: see log.go).
type state struct {
	log     *commitLog
	buckets map[string]*bucket
	serial  uint64 // last stream serial handed out

	// und lists the checkpoints of undispatched commits in increasing
	// order. It may also hold checkpoints since dispatched or deleted;
	// log.undDead counts them.
	und []int64
}

// nShards is the number of stream shards: commits to streams of distinct
// shards take distinct locks but for the short moment they take engine.mu.
const nShards = 64

// shard holds the streams whose names hash to it. Its lock guards the map
// and the contents of its streams (refs, ids, head, ordered, snaps);
// stream.deleted is written under both the shard lock and engine.mu.
type shard struct {
	mu      sync.Mutex
	streams map[string]*stream // by stream ID; streams of other buckets with the same ID are chained through alias
	last    *stream            // the stream committed to last: a cache for Commit
	_       [40]byte           // one shard per 64-byte line
}

// bucket holds one bucket's indexes, guarded by engine.mu.
type bucket struct {
	id   string
	live int // streams not deleted

	// order lists the streams by serial (creation order), for
	// StreamsToSnapshot; it may hold deleted streams, orderDead counts them.
	order     []*stream
	orderDead int

	// cps lists the bucket's checkpoints in increasing order, for
	// ReadBucket; it may hold deleted ones, cpsDead counts them.
	cps     []int64
	cpsDead int
}

// stream holds one stream's commits in commit sequence order, guarded by
// its shard's lock.
type stream struct {
	b       *bucket
	sh      *shard
	alias   *stream // next stream of the shard with the same ID, in another bucket
	id      string
	serial  uint64
	refs    []ref
	ids     map[driver.UUID]struct{} // commit IDs, built once the stream is long
	head    int                      // greatest revision stored
	ordered bool                     // revision ranges increase with sequence: binary search works
	deleted bool
	snaps   []driver.Snapshot // by revision
	first   [1]ref            // storage for the first commit's ref
}

// ref locates one commit of a stream.
type ref struct {
	seq   int
	first int // revision of the first event
	rev   int // revision of the last event
	cp    int64
	id    driver.UUID
}

// smallStream is the number of commits up to which commit IDs are checked by
// a linear scan of refs rather than a map.
const smallStream = 16

// find returns the live stream, or nil. sh.mu must be held.
func (sh *shard) find(bucketID, streamID string) *stream {
	if s := sh.last; s != nil && s.id == streamID && s.b.id == bucketID {
		return s
	}
	s := sh.streams[streamID]
	for s != nil && s.b.id != bucketID {
		s = s.alias
	}
	return s
}

// drop marks s deleted, forgets its commits and snapshots and takes it out
// of its shard's map. s.sh.mu must be held.
func (s *stream) drop() {
	s.deleted = true
	s.refs, s.ids, s.snaps = nil, nil, nil
	s.unlink()
}

// unlink takes s out of its shard's map. s.sh.mu must be held.
func (s *stream) unlink() {
	sh := s.sh
	if sh.last == s {
		sh.last = nil
	}
	p := sh.streams[s.id]
	if p == s {
		if s.alias == nil {
			delete(sh.streams, s.id)
		} else {
			sh.streams[s.id] = s.alias
		}
		return
	}
	for p != nil && p.alias != s {
		p = p.alias
	}
	if p != nil {
		p.alias = s.alias
	}
}

// create makes a new, empty stream in shard sh. Both sh.mu and engine.mu
// must be held.
func (st *state) create(sh *shard, bucketID, streamID string) *stream {
	b := st.buckets[bucketID]
	if b == nil {
		b = &bucket{id: bucketID}
		st.buckets[bucketID] = b
	}
	st.serial++
	s := &stream{b: b, sh: sh, id: streamID, serial: st.serial, ordered: true}
	s.refs = s.first[:0] // no second allocation for the usual short stream
	s.alias = sh.streams[streamID]
	sh.streams[streamID] = s
	b.order = append(b.order, s)
	b.live++
	return s
}

// hasID reports whether the stream holds a commit with commit ID id.
func (s *stream) hasID(id driver.UUID) bool {
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
	i := sort.Search(n, func(i int) bool { return s.refs[i].seq >= seq })
	return i, i < n && s.refs[i].seq == seq
}

// afterSeq returns the index of the first commit with a sequence above seq.
func (s *stream) afterSeq(seq int) int {
	return sort.Search(len(s.refs), func(i int) bool { return s.refs[i].seq > seq })
}

// fromRevision returns the index of the first commit whose last revision is
// at least rev. Only meaningful when s.ordered.
func (s *stream) fromRevision(rev int) int {
	return sort.Search(len(s.refs), func(i int) bool { return s.refs[i].rev >= rev })
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
		s.ids = make(map[driver.UUID]struct{}, 2*len(s.refs))
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
		st.log.undDead.Add(1)
	}
}

// removeStream deletes a stream with its commits and snapshots. Its shard's
// lock and engine.mu must be held.
func (st *state) removeStream(s *stream) {
	b := s.b
	for i := range s.refs {
		st.removeCommit(s.refs[i].cp)
	}
	b.cpsDead += len(s.refs)
	s.drop()
	b.live--
	b.orderDead++
	if b.live == 0 {
		delete(st.buckets, b.id)
	} else {
		b.compact(st.log)
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

// addUnd lists a new undispatched checkpoint, just appended to the log (so
// that log.undOff stays right).
func (st *state) addUnd(cp int64) {
	// Rather than grow, and every undCheckEvery appends: if half is dead.
	compacted := (len(st.und) == cap(st.und) || len(st.und)%undCheckEvery == 0) && st.compactUnd()
	st.und = append(st.und, cp)
	if compacted {
		st.log.undOff.Store(int64(len(st.und)) - st.log.n.Load())
	}
}

// compactUnd drops dispatched and deleted commits from the undispatched
// list once they are many. MarkDispatched may flag commits meanwhile: it
// counts each in undDead once, and compactUnd takes off only what it drops.
// It reports whether it compacted.
func (st *state) compactUnd() bool {
	dead := st.log.undDead.Load()
	if dead < compactMin || 2*dead < int64(len(st.und)) {
		return false
	}
	live := st.und[:0]
	for _, cp := range st.und {
		if en := st.log.at(cp); en != nil && !en.dispatched.Load() {
			live = append(live, cp)
		}
	}
	st.log.undDead.Add(-int64(len(st.und) - len(live)))
	st.und = live
	st.log.undOff.Store(int64(len(st.und)) - st.log.n.Load())
	return true
}

// searchAfter returns the index of the first element of cps above after.
func searchAfter(cps []int64, after int64) int {
	return sort.Search(len(cps), func(i int) bool { return cps[i] > after })
}
