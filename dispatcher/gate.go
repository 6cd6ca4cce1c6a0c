package dispatcher

import (
	"context"
	"sync"
	"sync/atomic"
)

// gate counts the Schedule calls in progress and refuses new ones once shut,
// with two atomic adds per call and no lock. Close shuts it, then waits on
// drained until no call is in progress.
type gate struct {
	_ [64]byte // keep state on a cache line of its own
	// state is (calls in progress)<<1 | shut bit.
	state atomic.Int64
	_     [56]byte

	once    sync.Once
	drained chan struct{} // closed once shut with no call in progress
}

func newGate() gate { return gate{drained: make(chan struct{})} }

// enter admits a call, or reports false if the gate is shut.
func (g *gate) enter() bool {
	if g.state.Add(2)&1 != 0 {
		g.leave()
		return false
	}
	return true
}

// leave ends a call admitted by enter (or refused by it).
func (g *gate) leave() {
	if g.state.Add(-2) == 1 {
		g.once.Do(func() { close(g.drained) })
	}
}

// shut refuses further calls.
func (g *gate) shut() {
	if g.state.Or(1) == 0 { // nothing in progress, and nobody will leave
		g.once.Do(func() { close(g.drained) })
	}
}

// wait waits until the gate is shut and no call is in progress.
func (g *gate) wait(ctx context.Context) error {
	select {
	case <-g.drained:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
