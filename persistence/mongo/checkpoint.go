package mongo

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

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
// a second after the engine last met another process), the writer knows
// another process is writing at the same numbers, and the engine moves to
// blocks.
//
// Blocks. Under contention an engine takes its numbers from a block of
// its own: blockSize numbers from a multiple of blockSize, claimed by
// inserting a tombstone at the block's first number (the unique _id index
// lets one claim win). Its writers then take the block's other numbers one
// after the other, and no other engine takes them: an engine claims only a
// block whose first number it inserted, and a writer still numbering from
// a hint collides with the block's numbers and moves to blocks in turn. So
// engines in different processes stop meeting each other at every number
// (each collision cost a failed insert, 42 to 60 ms on FerretDB, and often
// a lookup): one claim per blockSize-1 commits, and a lost claim only when
// two engines want the same block.
//
// An engine claims its next block when its block is half used, in the
// background, so that its writers seldom wait for a claim. It tries the
// block after its last claim (or the first above every number it knows
// of, if that is further), then after a lost claim 1, 2, 4... blocks
// further, and above the greatest _id stored after claimLoads lost in a
// row. Engines that claim side by side mostly find the block after their
// last claim taken: in TestFairness (4 engines on FerretDB) 1.1 to 1.3
// claims are lost per claim won. A failed insert costs FerretDB twice
// the CPU of one that succeeds (950 against 455 µs), so the claims, lost
// and won, cost it about 5% of the shared runs' work; blocks of 256
// numbers, a quarter of the claims, gave no rate that could be told from
// the noise (0.93, 0.80, 0.85 of one instance). (A
// stride, the next claim as far above the last as that was above the one
// before, was considered and dropped: with no loss to correct it an engine
// keeps whatever stride it first measured, and engines whose strides
// differ leave blocks between them empty, for readers to fill. In a model
// of four engines claiming at equal rates it lost 0.45 claims per claim
// instead of 1.6, but left 0.45 blocks empty per claim instead of none.)
// A commit whose stream's previous commit is at or above the block's next
// number, or whose number was taken (a reader filled it), leaves the rest
// of the block for the next.
//
// Numbers of a block nobody takes (the engine stopped, or left the block)
// are holes that readers fill like any other. An engine that has met no
// other process for calmFor goes back to its hint when its block is used
// up: an engine alone, or one that commits seldom, leaves no holes.
//
// Why not read the greatest _id after every collision, as this engine did:
// the process whose hint is current won every race (its next number costs
// no round trip, the others paid a read and found it taken again), so with
// several processes one made nearly all the commits (issue 16), and on
// FerretDB that read is a pass over the collection. Why not jump ahead by a
// random distance, as it did next: a process that jumped landed just ahead
// of the one it passed, which soon met it again, and the two kept paying
// for collisions (TestFairness on FerretDB/PostgreSQL: the shared phase
// made 0.53 to 0.58 of one instance's commits, 11% of inserts failing on a
// taken number).
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

// loadCollisions is how many collisions in a row one commit meets before
// it reads the greatest _id stored instead of claiming a block above the
// number it lost.
const loadCollisions = 7

// blockSize is how many numbers a block holds, its claim included: enough
// that a claim costs little per commit, few enough that a block left
// behind leaves few holes.
const blockSize = 64

// claimLoads is how many claims in a row an engine may lose before it
// reads the greatest _id stored and claims above it.
const claimLoads = 8

// maxClaims bounds the claims one call may lose.
const maxClaims = 16

// claimAheadTimeout bounds a claim made ahead, in the background; when it
// fails, a writer claims in its own time.
const claimAheadTimeout = 5 * time.Second

// contendedFor is how long after an engine met another process its
// writers take a collision as another process's doing at once.
const contendedFor = time.Second

// calmFor is how long an engine in blocks must meet no other process
// before it numbers from its hint again.
const calmFor = 10 * time.Second

// checkpoints is the writers' hint, and the engine's blocks.
type checkpoints struct {
	last   atomic.Int64 // greatest checkpoint known taken
	met    atomic.Int64 // when the engine last met another process (Unix nanoseconds)
	loaded atomic.Bool  // last has been raised to the stored maximum once
	loads  atomic.Int64 // loads of the stored maximum made
	mu     sync.Mutex   // serializes refreshes

	blocks atomic.Bool // numbers come from blocks (under contention)

	bmu      sync.Mutex     // guards the fields below
	cur      block          // the block numbers come from
	low      block          // a block below cur with numbers left, used first (see fromBlock)
	spare    int64          // the first number of the block claimed ahead; 0: none
	claiming chan struct{}  // closed when the claim ahead in flight ends; nil: none
	prev     int64          // the index (number / blockSize) of the block claimed last
	bg       sync.WaitGroup // claims ahead in flight

	// For tests: blocks claimed, claims lost, inserts that met a taken
	// number.
	claims, lostClaims, collisions atomic.Int64
}

// block is a block's numbers: [next, end) are left, lo is its claim.
type block struct{ lo, next, end int64 }

// take returns the block's next number if it is above floor.
func (b *block) take(floor int64) (int64, bool) {
	if b.next >= b.end || b.next <= floor {
		return 0, false
	}
	b.next++
	return b.next - 1, true
}

func (b *block) has(cp int64) bool { return b.lo <= cp && cp < b.end }

func blockAt(k int64) block { return block{k * blockSize, k*blockSize + 1, (k + 1) * blockSize} }

// nextCheckpoint returns a checkpoint above floor to try, loading the hint
// from storage first if it was never loaded.
func (e *engine) nextCheckpoint(ctx context.Context, floor int64) (int64, error) {
	if !e.cps.loaded.Load() {
		if err := e.loadCheckpoint(ctx, 0, false); err != nil {
			return 0, err
		}
	}
	e.cps.raise(floor)
	if !e.cps.blocks.Load() {
		return e.cps.last.Add(1), nil
	}
	return e.fromBlock(ctx, floor)
}

// fromBlock takes the next number above floor from the engine's blocks.
// When its block is half used it claims the next one ahead, in the
// background; when it is used up it goes on to that one, or claims one
// itself. A commit whose floor is above the block (its stream's previous
// commit is in another engine's block) gets its number from a block
// claimed above the floor, and the rest of the block it passed over is
// used first by the commits that follow, so that the turn leaves no
// holes.
func (e *engine) fromBlock(ctx context.Context, floor int64) (int64, error) {
	c := &e.cps
	c.bmu.Lock()
	defer c.bmu.Unlock()
	for {
		if cp, ok := c.low.take(floor); ok {
			c.raise(cp)
			return cp, nil
		}
		if cp, ok := c.cur.take(floor); ok {
			c.raise(cp)
			if c.cur.next-c.cur.lo >= blockSize/2 && c.spare == 0 && c.claiming == nil {
				e.claimAhead()
			}
			return cp, nil
		}
		if c.cur.next < c.cur.end {
			// Numbers are left, all at or below the floor: a block above
			// it, and the numbers left are used first.
			k, err := e.claim(ctx, c.firstCandidate(max(c.last.Load(), floor)))
			if err != nil {
				return 0, err
			}
			c.prev = k
			c.low, c.cur = c.cur, blockAt(k)
			continue
		}
		if c.spare != 0 {
			c.cur, c.spare = blockAt(c.spare/blockSize), 0
			continue
		}
		if ch := c.claiming; ch != nil {
			c.bmu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
			}
			c.bmu.Lock()
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			continue
		}
		if time.Now().UnixNano()-c.met.Load() > int64(calmFor) {
			// Nobody else for a while: back to the hint, above the blocks.
			c.blocks.Store(false)
			c.cur, c.low, c.prev = block{}, block{}, 0
			c.raise(floor)
			return c.last.Add(1), nil
		}
		k, err := e.claim(ctx, c.firstCandidate(max(c.last.Load(), floor)))
		if err != nil {
			return 0, err
		}
		c.prev = k
		c.cur = blockAt(k)
	}
}

// claimAhead claims the block after the engine's, in the background; bmu
// is held.
func (e *engine) claimAhead() {
	c := &e.cps
	ch := make(chan struct{})
	c.claiming = ch
	k0 := c.firstCandidate(c.cur.end - 1)
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		defer close(ch)
		ctx, cancel := context.WithTimeout(context.Background(), claimAheadTimeout)
		defer cancel()
		k, err := e.claim(ctx, k0)
		c.bmu.Lock()
		defer c.bmu.Unlock()
		if c.claiming != ch {
			return // the engine was reset meanwhile
		}
		c.claiming = nil
		if err == nil {
			c.prev = k
			c.spare = k * blockSize
		}
	}()
}

// firstCandidate returns the index of the first block to try to claim:
// the one after the engine's last claim, or the first above every number
// up to above if that is further; bmu is held.
func (c *checkpoints) firstCandidate(above int64) int64 {
	return max(above/blockSize+1, c.prev+1)
}

// claim inserts the claim of a free block from index k on and returns its
// index. After a claim lost it tries 1, 2, 4... blocks further (past
// another engine's run of blocks), and above the greatest _id stored
// after claimLoads lost.
func (e *engine) claim(ctx context.Context, k int64) (int64, error) {
	c := &e.cps
	for lost := 0; lost < maxClaims; lost++ {
		if lost == claimLoads {
			if err := e.loadCheckpoint(ctx, k*blockSize, true); err != nil {
				return 0, err
			}
			k = max(k, c.last.Load()/blockSize+1)
		}
		_, err := e.commits.InsertOne(ctx, claimDoc(k*blockSize, time.Now()))
		if err == nil {
			c.claims.Add(1)
			c.raise(k * blockSize)
			return k, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return 0, err
		}
		c.lostClaims.Add(1)
		c.met.Store(time.Now().UnixNano())
		k += int64(1) << min(lost, claimLoads)
	}
	return 0, errCheckpointContention
}

// skipCheckpoint moves on past cp, which the n-th collision of a commit
// found taken (n from 1): at the first, to the next number of the hint,
// unless the engine met another process within contendedFor or takes its
// numbers from blocks; else to a block above cp (leaving the engine's
// block if cp is in it); from the loadCollisions-th on, to a block above
// the greatest _id stored.
func (e *engine) skipCheckpoint(ctx context.Context, cp int64, n int) error {
	c := &e.cps
	c.collisions.Add(1)
	now := time.Now().UnixNano()
	if n == 1 && !c.blocks.Load() && now-c.met.Load() > int64(contendedFor) {
		c.raise(cp)
		return nil
	}
	c.met.Store(now)
	c.bmu.Lock()
	for _, b := range []*block{&c.cur, &c.low} {
		if b.has(cp) {
			b.next = b.end // taken by someone else: leave the block
		}
	}
	c.blocks.Store(true)
	c.bmu.Unlock()
	if n < loadCollisions {
		c.raise(cp)
		return nil
	}
	return e.loadCheckpoint(ctx, cp, true)
}

// claimDoc returns the claim of the block that starts at cp: its
// tombstone, stamped with the time of the claim (readers wait a while
// before they fill a young block's holes: see holdFor).
func claimDoc(cp int64, at time.Time) commitDoc {
	d := tombstone(cp)
	d.Stamp = at.UnixMicro()
	return d
}

// leaveBlock gives up the rest of the engine's block and the one claimed
// ahead (after Purge, whose floor may be above them).
func (c *checkpoints) leaveBlock() {
	c.bmu.Lock()
	defer c.bmu.Unlock()
	c.cur, c.low, c.spare = block{}, block{}, 0
}

// loadCheckpoint raises the hint to the greatest _id stored, and at
// least to min. Unless again, it does nothing once the hint was loaded (by
// a concurrent caller, say). Nor does it when a load ended while it waited
// for the one in progress: that load is as fresh as its own would be, and
// the writers of an engine that collide together (an engine that idled
// while others wrote) cost one load, not one each. The first load checks
// that Initialize ran.
func (e *engine) loadCheckpoint(ctx context.Context, min int64, again bool) error {
	gen := e.cps.loads.Load()
	e.cps.mu.Lock()
	defer e.cps.mu.Unlock()
	loaded := e.cps.loaded.Load()
	if loaded && (!again || e.cps.loads.Load() != gen) {
		e.cps.raise(min)
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
	e.cps.loads.Add(1)
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

// reset forgets the hint and the block (after Drop).
func (c *checkpoints) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last.Store(0)
	c.loaded.Store(false)
	c.bmu.Lock()
	defer c.bmu.Unlock()
	c.blocks.Store(false)
	c.cur, c.low, c.spare, c.claiming, c.prev = block{}, block{}, 0, nil, 0
}

// maxCheckpoint returns the greatest _id in the commits collection, 0 if it
// is empty. Tombstones count: a deleted commit's number is never reused.
func (e *engine) maxCheckpoint(ctx context.Context) (int64, error) {
	return e.findID(ctx, bson.D{}, bson.D{kv(fID, -1)}, idxID)
}
