package mongo

import (
	"context"
	"sync"

	"github.com/goeventstore/eventstore/persistence"
)

// gate counts calls in progress so that Close can wait for them, and turns
// calls away once Close has begun.
type gate struct {
	mu     sync.Mutex
	closed bool
	active int
	idle   chan struct{} // closed when active drops to 0 after Close began
}

// enter admits a call; the caller must call leave when done.
func (g *gate) enter() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return persistence.ErrClosed
	}
	g.active++
	return nil
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active--
	if g.closed && g.active == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// close refuses new calls and waits for those in progress until ctx is
// done. It reports false if the gate was already closed.
func (g *gate) close(ctx context.Context) (first bool, err error) {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false, nil
	}
	g.closed = true
	if g.active == 0 {
		g.mu.Unlock()
		return true, nil
	}
	idle := make(chan struct{})
	g.idle = idle
	g.mu.Unlock()
	select {
	case <-idle:
		return true, nil
	case <-ctx.Done():
		return true, ctx.Err()
	}
}
