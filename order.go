package eventstore

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
)

// orderer hands stored commits to the scheduler in commit sequence order
// per stream, also when several goroutines of this process commit to the
// same stream at once: a commit stored while an attempt with a lower
// sequence is still in progress (which may be the one stored just before
// it, whose goroutine has not yet come back from the engine) waits for that
// attempt to finish. No lock is held while the scheduler runs.
//
// (Commits written by other processes are not seen here: per-stream order
// holds for the commits of one process. Readers that need a total order
// read with Store.Commits.)
type orderer struct {
	seed    maphash.Seed
	stripes [64]orderStripe
}

type orderStripe struct {
	mu      sync.Mutex
	flights map[streamKey]*flight
}

type streamKey struct{ bucketID, streamID string }

// flight is the state of one stream with attempts in progress.
type flight struct {
	claimed  []int    // commit sequences of the attempts in progress
	ready    []Commit // stored, waiting to be scheduled; ascending sequence
	draining bool     // a goroutine is scheduling ready commits
}

var flights = sync.Pool{New: func() any { return new(flight) }}

func newOrderer() *orderer {
	o := &orderer{seed: maphash.MakeSeed()}
	for i := range o.stripes {
		o.stripes[i].flights = make(map[streamKey]*flight)
	}
	return o
}

func (o *orderer) stripe(k streamKey) *orderStripe {
	h := maphash.String(o.seed, k.streamID) ^ maphash.String(o.seed, k.bucketID)>>1
	return &o.stripes[h%uint64(len(o.stripes))]
}

// begin records an attempt at commit sequence seq.
func (o *orderer) begin(k streamKey, seq int) {
	s := o.stripe(k)
	s.mu.Lock()
	f := s.flights[k]
	if f == nil {
		f = flights.Get().(*flight)
		s.flights[k] = f
	}
	f.claimed = append(f.claimed, seq)
	s.mu.Unlock()
}

// end records that the attempt at seq is over, stored as c (nil: it
// failed), and schedules every stored commit of the stream that no attempt
// in progress can precede, in sequence order.
func (o *orderer) end(ctx context.Context, k streamKey, seq int, c *Commit, schedule func(context.Context, Commit)) {
	s := o.stripe(k)
	s.mu.Lock()
	f := s.flights[k]
	if i := slices.Index(f.claimed, seq); i >= 0 {
		f.claimed = slices.Delete(f.claimed, i, i+1)
	}
	if c != nil {
		i, _ := slices.BinarySearchFunc(f.ready, c.CommitSequence, func(r Commit, seq int) int { return r.CommitSequence - seq })
		f.ready = slices.Insert(f.ready, i, *c)
	}
	if f.draining {
		s.mu.Unlock()
		return
	}
	f.draining = true
	for len(f.ready) > 0 && (len(f.claimed) == 0 || slices.Min(f.claimed) > f.ready[0].CommitSequence) {
		next := f.ready[0]
		f.ready[0] = Commit{}
		f.ready = f.ready[1:]
		s.mu.Unlock()
		schedule(ctx, next)
		s.mu.Lock()
	}
	f.draining = false
	if len(f.claimed) == 0 && len(f.ready) == 0 {
		delete(s.flights, k)
		f.claimed, f.ready = f.claimed[:0], f.ready[:0]
		flights.Put(f)
	}
	s.mu.Unlock()
}
