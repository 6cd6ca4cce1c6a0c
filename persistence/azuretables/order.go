package azuretables

import (
	"context"
	"sync"
)

// Stream order. Contending writers create slots in lanes (see appender),
// so a slot can be created below one that exists: a commit could get a
// checkpoint below its stream's previous commit, written by another
// process in a lane above. Commit prevents it: it knows the checkpoint of
// the stream's previous commit (the floor) and puts its intent above it.
// The floor comes from what this engine wrote or read of the stream
// (lastSeen); when it does not know it, Commit reads the previous commit
// row while its intent goes to the log, and if the slot came out below,
// aborts the slot and writes the intent again above the floor.

// lastSeen remembers, per stream, the sequence and checkpoint of the last
// commit this engine wrote or read: the floor of the next commit.
type lastSeen struct {
	mu sync.Mutex
	m  map[string]seqSlot
}

type seqSlot struct {
	seq int
	n   int64
}

// lastSeenMax bounds the streams lastSeen remembers; past it, it forgets
// them all (a miss costs one point read, in parallel with the log batch).
const lastSeenMax = 4096

func (l *lastSeen) put(pk string, seq int, n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil || len(l.m) >= lastSeenMax {
		l.m = map[string]seqSlot{}
	}
	if old, ok := l.m[pk]; !ok || old.seq <= seq {
		l.m[pk] = seqSlot{seq, n}
	}
}

// clear forgets every stream (the table was dropped).
func (l *lastSeen) clear() {
	l.mu.Lock()
	l.m = nil
	l.mu.Unlock()
}

// floor returns the checkpoint of commit seq of the stream, if known.
func (l *lastSeen) floor(pk string, seq int) (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.m[pk]
	if !ok || s.seq != seq {
		return 0, false
	}
	return s.n, true
}

// prevSlot reads the checkpoint of commit seq of the stream in partition
// pk, 0 if it does not exist.
func (e *engine) prevSlot(ctx context.Context, pk string, seq int) (int64, error) {
	r, found, err := e.get(ctx, pk, commitRK(seq))
	if err != nil || !found {
		return 0, err
	}
	return r.N, nil
}
