package memory

import "github.com/goeventstore/eventstore/persistence"

// The global log holds every commit at the position its checkpoint names:
// checkpoint = base + position + 1. It grows in fixed chunks, so appending
// never copies earlier commits, and a chunk whose commits have all been
// deleted is freed.

const (
	chunkBits = 10
	chunkLen  = 1 << chunkBits
)

// entry is one slot of the log. s is nil once the commit is deleted.
type entry struct {
	c          persistence.Commit
	s          *stream
	dispatched bool
}

type chunk struct {
	e    [chunkLen]entry
	live int // entries not deleted
}

type commitLog struct {
	base   int64 // checkpoint of position 0, minus 1
	n      int64 // positions used
	chunks []*chunk
}

// last returns the greatest checkpoint handed out.
func (l *commitLog) last() int64 { return l.base + l.n }

// append stores c at the next position, sets its checkpoint and returns it.
func (l *commitLog) append(c *persistence.Commit, s *stream) int64 {
	p := l.n
	ci := int(p >> chunkBits)
	if ci == len(l.chunks) {
		l.chunks = append(l.chunks, new(chunk))
	}
	ch := l.chunks[ci]
	l.n++
	c.Checkpoint = l.base + l.n
	en := &ch.e[p&(chunkLen-1)]
	en.c = *c
	en.s = s
	ch.live++
	return c.Checkpoint
}

// at returns the live entry at checkpoint cp, or nil.
func (l *commitLog) at(cp int64) *entry {
	p := cp - l.base - 1
	if p < 0 || p >= l.n {
		return nil
	}
	ch := l.chunks[p>>chunkBits]
	if ch == nil {
		return nil
	}
	en := &ch.e[p&(chunkLen-1)]
	if en.s == nil {
		return nil
	}
	return en
}

// remove deletes the commit at checkpoint cp and reports whether it was
// still undispatched. The slot stays empty for good.
func (l *commitLog) remove(cp int64) (wasUndispatched bool) {
	p := cp - l.base - 1
	if p < 0 || p >= l.n {
		return false
	}
	ci := p >> chunkBits
	ch := l.chunks[ci]
	if ch == nil {
		return false
	}
	en := &ch.e[p&(chunkLen-1)]
	if en.s == nil {
		return false
	}
	wasUndispatched = !en.dispatched
	*en = entry{}
	ch.live--
	if ch.live == 0 && (ci+1)<<chunkBits <= l.n {
		l.chunks[ci] = nil // full and empty: nothing will ever be stored here again
	}
	return wasUndispatched
}

// scan appends to buf the live commits after checkpoint after that keep
// reports true for, until buf holds max commits or the log ends. It returns
// buf and the checkpoint of the last position examined, and whether it
// reached the end of the log.
func (l *commitLog) scan(buf []persistence.Commit, after int64, max int, keep func(*entry) bool) ([]persistence.Commit, int64, bool) {
	p := after - l.base
	if p < 0 {
		p = 0
	}
	for p < l.n {
		ch := l.chunks[p>>chunkBits]
		if ch == nil || ch.live == 0 {
			p = (p>>chunkBits + 1) << chunkBits // skip the whole chunk
			continue
		}
		end := min((p>>chunkBits+1)<<chunkBits, l.n)
		for ; p < end; p++ {
			en := &ch.e[p&(chunkLen-1)]
			if en.s == nil || (keep != nil && !keep(en)) {
				continue
			}
			buf = append(buf, en.c)
			if len(buf) == max {
				p++
				return buf, l.base + p, p >= l.n
			}
		}
	}
	return buf, l.base + l.n, true
}
