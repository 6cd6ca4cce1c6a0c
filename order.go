package eventstore

import (
	"context"
	"hash/maphash"
	"sync"
)

// orderer hands stored commits to the scheduler in commit sequence order
// per stream, also when several goroutines of this process commit to the
// same stream at once: a commit stored while an attempt with a lower
// sequence is still in progress (which may be the one stored just before
// it, whose goroutine has not yet come back from the engine) waits for that
// attempt to finish, and whichever goroutine finishes last schedules both,
// in order. No lock is held while the scheduler runs, except for a
// scheduler that can queue without blocking (dispatcher.TryScheduler):
// a commit that nothing precedes is queued under the stripe's lock, which
// is the cheapest way to keep a later commit from overtaking it.
//
// (Commits written by other processes are not seen here: per-stream order
// holds for the commits of one process. Readers that need a total order
// read with Store.Commits.)
//
// Streams are spread over stripes by hash; each stripe keeps small lists,
// usually of zero or one entry, so the common case costs two short
// critical sections and no allocation.
type orderer struct {
	seed    maphash.Seed
	sched   func(context.Context, *Commit) // hands a commit to the scheduler, blocking if need be
	try     func(*Commit) bool             // hands it over without blocking, or reports false; may be nil
	stripes [64]orderStripe
}

type orderStripe struct {
	mu       sync.Mutex
	inflight []orderEntry // attempts in progress
	ready    []*Commit    // stored, waiting for an earlier attempt of their stream
	draining []streamKey  // streams whose ready commits a goroutine is scheduling
	_        [32]byte     // keep stripes on separate cache lines
}

type streamKey struct{ bucketID, streamID string }

type orderEntry struct {
	key streamKey
	seq int
}

// newOrderer returns an orderer handing commits to sched. If try is not
// nil, a commit that nothing precedes is handed to try while the stripe's
// lock is held, which saves the bookkeeping that lets sched run unlocked;
// try must not block, and returns false to fall back to sched.
func newOrderer(sched func(context.Context, *Commit), try func(*Commit) bool) *orderer {
	return &orderer{seed: maphash.MakeSeed(), sched: sched, try: try}
}

// ticket is one attempt's registration; end must run once the attempt is
// over (CommitChanges defers it).
type ticket struct {
	o      *orderer
	stripe *orderStripe
	key    streamKey
	seq    int
	ctx    context.Context
	stored *Commit // set when the attempt stored a commit
}

// begin records an attempt at commit sequence seq of stream k.
func (o *orderer) begin(ctx context.Context, k streamKey, seq int) ticket {
	s := &o.stripes[maphash.String(o.seed, k.streamID)%uint64(len(o.stripes))]
	s.mu.Lock()
	s.inflight = append(s.inflight, orderEntry{k, seq})
	s.mu.Unlock()
	return ticket{o: o, stripe: s, key: k, seq: seq, ctx: ctx}
}

// end records that the attempt is over, and schedules, in sequence order,
// every stored commit of the stream that no attempt in progress precedes.
func (t *ticket) end() {
	s := t.stripe
	s.mu.Lock()
	for i, e := range s.inflight {
		if e.seq == t.seq && e.key == t.key {
			last := len(s.inflight) - 1
			s.inflight[i] = s.inflight[last]
			s.inflight[last] = orderEntry{}
			s.inflight = s.inflight[:last]
			break
		}
	}
	if t.stored == nil && len(s.ready) == 0 {
		s.mu.Unlock() // a failed attempt, nothing waiting: the common failure
		return
	}
	if t.stored != nil && t.o.try != nil && s.first(t.key, t.seq) && t.o.try(t.stored) {
		s.mu.Unlock() // the common success: handed over in order, under the lock
		return
	}
	if t.stored != nil {
		s.ready = append(s.ready, t.stored)
	}
	for _, k := range s.draining {
		if k == t.key {
			s.mu.Unlock() // that goroutine will schedule ours too
			return
		}
	}
	s.draining = append(s.draining, t.key)
	for {
		i := s.next(t.key)
		if i < 0 {
			break
		}
		c := s.ready[i]
		last := len(s.ready) - 1
		s.ready[i] = s.ready[last]
		s.ready[last] = nil
		s.ready = s.ready[:last]
		s.mu.Unlock()
		t.o.sched(t.ctx, c)
		s.mu.Lock()
	}
	for i, k := range s.draining {
		if k == t.key {
			last := len(s.draining) - 1
			s.draining[i] = s.draining[last]
			s.draining[last] = streamKey{}
			s.draining = s.draining[:last]
			break
		}
	}
	s.mu.Unlock()
}

// first reports whether a commit of k at sequence seq may be scheduled
// right away: no earlier attempt on k is in progress, and no commit of k is
// waiting or being scheduled.
func (s *orderStripe) first(k streamKey, seq int) bool {
	for i := range s.ready {
		if s.ready[i].StreamID == k.streamID && s.ready[i].BucketID == k.bucketID {
			return false
		}
	}
	for _, d := range s.draining {
		if d == k {
			return false
		}
	}
	for _, e := range s.inflight {
		if e.key == k && e.seq < seq {
			return false
		}
	}
	return true
}

// next returns the index of the ready commit of k to schedule now: the one
// with the lowest sequence, if no attempt in progress on k has a lower one.
// It returns -1 if there is none.
func (s *orderStripe) next(k streamKey) int {
	best := -1
	for i := range s.ready {
		if s.ready[i].StreamID == k.streamID && s.ready[i].BucketID == k.bucketID &&
			(best < 0 || s.ready[i].CommitSequence < s.ready[best].CommitSequence) {
			best = i
		}
	}
	if best < 0 {
		return -1
	}
	for _, e := range s.inflight {
		if e.key == k && e.seq < s.ready[best].CommitSequence {
			return -1
		}
	}
	return best
}

// pending reports whether an attempt at commit sequence seq of stream k is
// in progress.
func (o *orderer) pending(k streamKey, seq int) bool {
	s := &o.stripes[maphash.String(o.seed, k.streamID)%uint64(len(o.stripes))]
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.inflight {
		if e.seq == seq && e.key == k {
			return true
		}
	}
	return false
}
