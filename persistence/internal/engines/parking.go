package engines

import (
	"sync"
	"time"
)

// Parking keeps idle resources (open cursors, say) under keys between two
// calls, so that the next call with the same key continues one rather than
// opening another. A parked value is closed, with Close, after Idle unused,
// when Max others are parked, and when another is parked under its key; a
// value taken back is the caller's again. The zero Parking, with Idle, Max
// and Close set, is ready for use.
type Parking[K comparable, V any] struct {
	Idle  time.Duration
	Max   int
	Close func(V)

	mu     sync.Mutex
	m      map[K]*spot[V]
	closed bool
}

// spot is a parked value and its idle timer.
type spot[V any] struct {
	v     V
	timer *time.Timer
}

// Take removes and returns the value parked under k, if any.
func (p *Parking[K, V]) Take(k K) (v V, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.m[k]
	if s == nil {
		return v, false
	}
	delete(p.m, k)
	s.timer.Stop()
	return s.v, true
}

// Park parks v under k, closing the value parked there before; it closes v
// instead when Max values are parked or Clear(true) was called.
func (p *Parking[K, V]) Park(k K, v V) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.m[k]; old != nil {
		delete(p.m, k)
		old.timer.Stop()
		p.Close(old.v)
	}
	if p.closed || len(p.m) >= p.Max {
		p.Close(v)
		return
	}
	if p.m == nil {
		p.m = map[K]*spot[V]{}
	}
	s := &spot[V]{v: v}
	p.m[k] = s
	s.timer = time.AfterFunc(p.Idle, func() {
		p.mu.Lock()
		mine := p.m[k] == s
		if mine {
			delete(p.m, k)
		}
		p.mu.Unlock()
		if mine {
			p.Close(v)
		}
	})
}

// Clear removes every parked value and returns them, not closed: the
// caller closes them. After Clear(true), Park closes what it is given.
func (p *Parking[K, V]) Clear(final bool) []V {
	p.mu.Lock()
	defer p.mu.Unlock()
	vs := make([]V, 0, len(p.m))
	for _, s := range p.m {
		s.timer.Stop()
		vs = append(vs, s.v)
	}
	p.m, p.closed = nil, p.closed || final
	return vs
}

// Len returns how many values are parked.
func (p *Parking[K, V]) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}
