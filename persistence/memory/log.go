package memory

import (
	"sync"
	"sync/atomic"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// The global log holds every commit at the position its checkpoint names:
// checkpoint = base + position + 1. It grows in fixed chunks, so appending
// never copies earlier commits, and a chunk whose commits have all been
// deleted is freed.
//
// Appends and removals happen under engine.mu. MarkDispatched finds an
// entry without engine.mu: the number of positions used (n) and the chunk
// directory (dir) are published atomically, a published directory is never
// modified where its length reaches (freeing a chunk copies it), and the
// entries of a chunk are removed only under the chunk's own lock, which
// MarkDispatched holds while it checks and flags an entry.

const (
	chunkBits = 10
	chunkLen  = 1 << chunkBits
)

// entry is one slot of the log. s is nil once the commit is deleted.
type entry struct {
	c          driver.Commit
	s          *stream
	cp         atomic.Int64 // c's checkpoint, stored once c and s are written
	dispatched atomic.Bool
}

type chunk struct {
	mu   sync.RWMutex // held to remove an entry, read-held by MarkDispatched
	_    [64]byte     // keeps mu off the lines committers write
	live int          // entries not deleted; guarded by engine.mu
	e    [chunkLen]entry
}

type commitLog struct {
	base int64                    // checkpoint of position 0, minus 1
	dir  atomic.Pointer[[]*chunk] // chunk directory (written under engine.mu, once per chunk)
	_    [64]byte                 // keeps the read-mostly fields above off the line committers write

	n      atomic.Int64 // positions used (written under engine.mu)
	undOff atomic.Int64 // len(state.und) - n, for MarkDispatched (each append adds to both)
	_      [64]byte     // keeps undDead off the line committers write

	// undDead counts the checkpoints in state.und since dispatched or
	// deleted. MarkDispatched adds to it without engine.mu.
	undDead atomic.Int64
}

// newLog returns an empty log whose first checkpoint is base+1.
func newLog(base int64) *commitLog {
	l := &commitLog{base: base}
	l.dir.Store(new([]*chunk))
	return l
}

// last returns the greatest checkpoint handed out.
func (l *commitLog) last() int64 { return l.base + l.n.Load() }

// append stores c at the next position, sets its checkpoint and returns it.
// It publishes the entry last, so that it is never seen half written.
func (l *commitLog) append(c *driver.Commit, s *stream) int64 {
	p := l.n.Load()
	ci := int(p >> chunkBits)
	dir := l.dir.Load()
	if ci == len(*dir) {
		grown := append(*dir, new(chunk)) // readers of the old directory never look past its length
		l.dir.Store(&grown)
		dir = &grown
	}
	ch := (*dir)[ci]
	c.Checkpoint = l.base + p + 1
	en := &ch.e[p&(chunkLen-1)]
	en.c = *c
	en.s = s
	en.cp.Store(c.Checkpoint) // publishes the entry to slot
	ch.live++
	l.n.Store(p + 1)
	return c.Checkpoint
}

// slot returns the slot of checkpoint cp, live or not, and its chunk, or
// nils if cp was never handed out or its chunk was freed.
//
// It does not read n, which every append writes: MarkDispatched, running
// on another core than the committers, would make each append wait for
// that cache line to come back. The entry's own cp says whether it was
// handed out.
func (l *commitLog) slot(cp int64) (*chunk, *entry) {
	p := cp - l.base - 1
	if p < 0 {
		return nil, nil
	}
	dir := *l.dir.Load()
	if p>>chunkBits >= int64(len(dir)) {
		return nil, nil
	}
	ch := dir[p>>chunkBits]
	if ch == nil {
		return nil, nil
	}
	en := &ch.e[p&(chunkLen-1)]
	if en.cp.Load() != cp {
		return nil, nil
	}
	return ch, en
}

// at returns the live entry at checkpoint cp, or nil. engine.mu must be
// held.
func (l *commitLog) at(cp int64) *entry {
	_, en := l.slot(cp)
	if en == nil || en.s == nil {
		return nil
	}
	return en
}

// remove deletes the commit at checkpoint cp and reports whether it was
// still undispatched. The slot stays empty for good. engine.mu must be
// held.
func (l *commitLog) remove(cp int64) (wasUndispatched bool) {
	ch, en := l.slot(cp)
	if en == nil {
		return false
	}
	ch.mu.Lock()
	if en.s == nil {
		ch.mu.Unlock()
		return false
	}
	wasUndispatched = !en.dispatched.Load()
	en.c, en.s = driver.Commit{}, nil
	en.dispatched.Store(false)
	ch.mu.Unlock()
	ch.live--
	p := cp - l.base - 1
	if ci := p >> chunkBits; ch.live == 0 && (ci+1)<<chunkBits <= l.n.Load() {
		// Full and empty: nothing will ever be stored here again. The
		// directory is copied, not written, as MarkDispatched may be
		// reading it.
		dir := append([]*chunk(nil), *l.dir.Load()...)
		dir[ci] = nil
		l.dir.Store(&dir)
	}
	return wasUndispatched
}

// chunks returns the chunk directory (nil where freed).
func (l *commitLog) chunks() []*chunk { return *l.dir.Load() }

// scan appends to buf the live commits after checkpoint after that keep
// accepts (nil: all), until buf holds max commits or the log ends, and
// returns buf. engine.mu must be held.
func (l *commitLog) scan(buf []driver.Commit, after int64, max int, keep func(*entry) bool) []driver.Commit {
	p := after - l.base
	if p < 0 {
		p = 0
	}
	n, chunks := l.n.Load(), l.chunks()
	for p < n {
		ch := chunks[p>>chunkBits]
		if ch == nil || ch.live == 0 {
			p = (p>>chunkBits + 1) << chunkBits // skip the whole chunk
			continue
		}
		end := min((p>>chunkBits+1)<<chunkBits, n)
		for ; p < end; p++ {
			en := &ch.e[p&(chunkLen-1)]
			if en.s == nil || (keep != nil && !keep(en)) {
				continue
			}
			buf = append(buf, en.c)
			if len(buf) == max {
				return buf
			}
		}
	}
	return buf
}
