// Package dispatchtest holds what the dispatch tests of several packages
// share: a dispatcher that holds every commit until released, and a buffer
// a logger may write to from several goroutines.
package dispatchtest

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"

	"github.com/goeventstore/eventstore"
)

// Gated is a dispatcher that holds every commit until Open (or until its
// context is done), and records, per stream, the commit sequences it
// delivered.
type Gated struct {
	// Calls counts Dispatch calls, held ones included.
	Calls   atomic.Int64
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	got     map[string][]int
	n       int
}

// NewGated returns a closed gate.
func NewGated() *Gated { return &Gated{release: make(chan struct{}), got: map[string][]int{}} }

// Open lets every held and later commit through.
func (g *Gated) Open() { g.once.Do(func() { close(g.release) }) }

// Dispatch waits for Open, then records c.
func (g *Gated) Dispatch(ctx context.Context, c eventstore.Commit) error {
	g.Calls.Add(1)
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.got[c.StreamID] = append(g.got[c.StreamID], c.CommitSequence)
	g.n++
	return nil
}

// Delivered is how many commits went through.
func (g *Gated) Delivered() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// Sequences returns the commit sequences delivered for stream, in order.
func (g *Gated) Sequences(stream string) []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.got[stream]...)
}

// LogBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
