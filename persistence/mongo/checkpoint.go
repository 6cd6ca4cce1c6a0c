package mongo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// How a writer takes its checkpoint
//
// A commit's _id is its checkpoint. A writer takes the next number from an
// in-process hint, one greater than the greatest _id it knows of, and
// inserts: one round trip per commit. The hint starts from the greatest _id
// in the collection, read by the engine's first commit, which first checks
// that Initialize made the unique indexes (an insert would otherwise create
// the collection without them, and nothing would enforce the rules).
//
// When the insert fails with a duplicate _id (another process took the
// number, or a reader filled it with a tombstone), the writer first tries
// the next number of its hint: a reader fills only numbers below one it
// saw, so in a process alone (or ahead of the others) that number is free.
// From the second collision of the same commit on (or from the first, for
// a second after a writer of the same engine jumped), the writer knows
// another process is ahead: it jumps its hint past the number it lost by a
// random distance that doubles with each further collision (64-128,
// 128-256, ...: see gallopStart), and tries there. Only after gallopCollisions
// collisions in a row does it read the greatest _id stored, and continue
// above it. Why not read the greatest _id after every collision, as this
// engine did: the process whose hint is current won every race (its next
// number costs no round trip, the others paid a read and found it taken
// again), so with several processes one made nearly all the commits (issue
// 16), and on FerretDB that read is a pass over the collection. Jumping
// ahead lands a process that fell behind in front of the others, which
// then collide and jump in turn: the processes take turns, and a collision
// costs one insert. The numbers jumped over are taken by the processes
// behind, or filled by readers like any hole; a jump is under
// gallopStart<<(gallopCollisions-2).
//
// Any number a writer tries is safe: the unique _id index refuses a number
// taken or filled, and a number below a reader's position is filled. A
// counter document ($inc through findAndModify) would hand out numbers
// fairly on MongoDB, but FerretDB (both backends) applies concurrent
// updates of one document as read-modify-write and loses increments (the
// plain driver, 16 writers on 4 clients: about 3,400 increments, counter at
// 439), and on its SQLite backend concurrent findAndModify does 72 per 2 s.
//
// A number taken but not yet visible is the trap readers must not fall
// into; see read.go for how readers close every such hole with
// package gapfill.

// gallopCollisions is how many collisions in a row one commit meets before
// it reads the greatest _id stored instead of jumping ahead.
const gallopCollisions = 7

// gallopStart is the shortest jump: well past the numbers a few processes
// of a few writers each hold in flight at once, so that a jump usually
// lands past them and the next crossing comes dozens of commits later.
// Against 16, it halved the p99 of TestFairness on FerretDB/PostgreSQL; with
// a reader polling, either left about one tombstone per ten commits.
const gallopStart = 64

// contendedFor is how long after a jump an engine's writers jump at their
// first collision: another process was ahead a moment ago, and a collision
// with it costs one insert less this way (and, on FerretDB, one lookup).
const contendedFor = time.Second

// checkpoints is the writers' hint.
type checkpoints struct {
	last   atomic.Int64 // greatest checkpoint known taken
	jumped atomic.Int64 // when a writer last jumped ahead (Unix nanoseconds)
	loaded atomic.Bool  // last has been raised to the stored maximum once
	mu     sync.Mutex   // serializes refreshes
}

// nextCheckpoint returns a checkpoint to try, loading the hint from
// storage first if it was never loaded.
func (e *engine) nextCheckpoint(ctx context.Context) (int64, error) {
	if !e.cps.loaded.Load() {
		if err := e.loadCheckpoint(ctx, 0, false); err != nil {
			return 0, err
		}
	}
	return e.cps.last.Add(1), nil
}

// skipCheckpoint moves the hint past cp, which the n-th collision of a
// commit found taken (n from 1): at the first, to cp at least (the next
// number of the hint), unless a writer of this engine jumped within
// contendedFor (other processes are writing: jump at once); then ahead by
// a random distance in [gallopStart<<(n-2), gallopStart<<(n-1)); from the
// gallopCollisions-th on, to the greatest _id stored.
func (e *engine) skipCheckpoint(ctx context.Context, cp int64, n int) error {
	now := time.Now().UnixNano()
	switch {
	case n == 1 && now-e.cps.jumped.Load() > int64(contendedFor):
		e.cps.raise(cp)
	case n < gallopCollisions:
		step := int64(gallopStart) << max(n-2, 0)
		e.cps.raise(cp + step + rand.Int64N(step) - 1) // the next number is one more
		e.cps.jumped.Store(now)
	default:
		return e.loadCheckpoint(ctx, cp, true)
	}
	return nil
}

// loadCheckpoint raises the hint to the greatest _id stored, and at
// least to min. Unless again, it does nothing once the hint was loaded (by
// a concurrent caller, say). The first load checks that Initialize ran.
func (e *engine) loadCheckpoint(ctx context.Context, min int64, again bool) error {
	e.cps.mu.Lock()
	defer e.cps.mu.Unlock()
	loaded := e.cps.loaded.Load()
	if loaded && !again {
		return nil
	}
	if !loaded {
		if err := e.checkInitialized(ctx); err != nil {
			return err
		}
	}
	stored, err := e.maxCheckpoint(ctx)
	if err != nil {
		return err
	}
	e.cps.raise(max(stored, min))
	e.cps.loaded.Store(true)
	return nil
}

// checkInitialized returns an error wrapping driver.ErrNotInitialized if the
// commits collection lacks the unique indexes Initialize creates.
func (e *engine) checkInitialized(ctx context.Context) error {
	have, err := indexNames(ctx, e.commits)
	if err != nil || have[idxSequence] {
		return err
	}
	return fmt.Errorf("collection %s has no index %s: %w", e.commits.Name(), idxSequence, driver.ErrNotInitialized)
}

// raise sets last to at least v.
func (c *checkpoints) raise(v int64) {
	for {
		cur := c.last.Load()
		if v <= cur || c.last.CompareAndSwap(cur, v) {
			return
		}
	}
}

// reset forgets the hint (after Drop).
func (c *checkpoints) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last.Store(0)
	c.loaded.Store(false)
}

// maxCheckpoint returns the greatest _id in the commits collection, 0 if it
// is empty. Tombstones count: a deleted commit's number is never reused.
func (e *engine) maxCheckpoint(ctx context.Context) (int64, error) {
	return e.findID(ctx, bson.D{}, bson.D{kv(fID, -1)}, idxID)
}
