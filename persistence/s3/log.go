package s3

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// The global log, written by group commit: every commit of this process
// that is waiting for a slot goes into the next slot, one conditional
// create for all of them, so that writers on distinct streams share the
// one request that contends on the log's tail.
//
// The log is sparse: an engine alone on it creates slot after slot, but
// engines that contend spread their creates over the next few slots, so
// that several slots land in one round trip, and the slots nobody took are
// holes that readers settle (see holes.go).

// Limits of one slot.
const (
	maxSlotCommits = 1 << slotBits
	maxSlotBytes   = 8 << 20
)

// metaNonce is the user metadata of a log slot naming its writer's nonce,
// so that a writer recognises its own slot with a HEAD.
const metaNonce = "nonce"

// logCounts counts what an engine's log writes cost, for tests and
// benchmarks that explain a rate (TestFairness logs them).
type logCounts struct {
	slots  atomic.Int64 // slots created with intents
	lost   atomic.Int64 // creates that found the slot taken
	tails  atomic.Int64 // LISTs of the tail by a writer
	voids  atomic.Int64 // void slots created, by readers and sweeps
	sweeps atomic.Int64 // LISTs of a sweep over slots passed over
}

// appender writes the log slots of one engine.
type appender struct {
	n    *logCounts
	o    *objects
	k    keys
	wait time.Duration // bound of a slot write, which outlives the callers that queued it
	seen func() int64  // the greatest slot the engine has seen exist
	// known records that slot n exists; skipped is told that the slot
	// write that created slot to (taking took) passed over the slots
	// between from and to, which may stay holes.
	known   func(n int64)
	skipped func(from, to int64, took time.Duration)

	// Contention, seen by the slot writes (which run one at a time).
	lostAt time.Time           // when this engine last lost a slot to another writer
	spread int64               // how many slots the next create picks among (1: the next one)
	rand   func(n int64) int64 // a number in [0, n): rand.Int64N, but for tests
	took   time.Duration       // how long the last slot create took

	mu      sync.Mutex
	queue   []*pending
	running bool
	next    int64 // the slot to try next; 0: find the tail with a LIST
	base    int64 // next-1, a slot known to exist (0: none)
}

// pending is one intent waiting for its slot.
type pending struct {
	rec   *record
	above int64 // the slot of the stream's previous commit: the intent must land above it
	size  int
	sent  bool // taken into a slot write: no longer cancellable
	done  chan struct{}
	cp    int64
	err   error
}

// append writes rec into a log slot above slot above (the slot of the
// stream's previous commit, so that a stream's commits follow each other
// in checkpoint order) and returns its checkpoint. If ctx ends before rec
// was taken into a slot write it returns ctx's error and nothing was sent.
func (a *appender) append(ctx context.Context, rec *record, above int64) (int64, error) {
	p := &pending{rec: rec, above: above, size: len(rec.Data) + 256, done: make(chan struct{})}
	a.mu.Lock()
	a.queue = append(a.queue, p)
	if !a.running {
		a.running = true
		go a.run()
	}
	a.mu.Unlock()
	select {
	case <-p.done:
		return p.cp, p.err
	case <-ctx.Done():
		a.mu.Lock()
		if !p.sent {
			for i, q := range a.queue {
				if q == p {
					a.queue = append(a.queue[:i], a.queue[i+1:]...)
					break
				}
			}
			a.mu.Unlock()
			return 0, ctx.Err()
		}
		a.mu.Unlock()
		return 0, ctx.Err() // the slot write is in flight: the outcome is unknown
	}
}

// run writes slots while intents are queued.
func (a *appender) run() {
	for {
		a.mu.Lock()
		var batch []*pending
		size := 0
		for len(a.queue) > 0 && len(batch) < maxSlotCommits {
			p := a.queue[0]
			if len(batch) > 0 && size+p.size > maxSlotBytes {
				break
			}
			p.sent = true
			batch = append(batch, p)
			size += p.size
			a.queue = a.queue[1:]
		}
		if len(batch) == 0 {
			a.running = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), a.wait)
		n, batch, err := a.write(ctx, batch)
		cancel()
		for i, p := range batch {
			p.cp, p.err = checkpointOf(n, i), err
			close(p.done)
		}
	}
}

// contendedFor is how long after losing a slot an engine takes the log
// for contended.
const contendedFor = 10 * time.Second

// maxSpread bounds the slots a create picks among.
const maxSpread = 8

// pick returns the slot to try after slot base, known to exist: the next
// one for an engine alone on the log; under contention one of the next
// spread, at random, so that engines contending for the log mostly create
// different slots in the same round trip instead of all but one losing
// the same slot.
func (a *appender) pick(base int64) int64 {
	if a.spread <= 1 {
		return base + 1
	}
	return base + 1 + a.rand(a.spread)
}

// write stores batch as one new slot and returns its number, and the
// batch it stored: the intents queued while it lost slots to other
// writers go along (a slot won under contention carries as many as it
// can).
//
// A 412 on slot n proves n exists (another writer took it, or a reader
// voided it as a hole), so the writer tries a slot above it at once; only
// after several losses in a row, when it is likely behind, does it LIST the
// tail. Each loss widens the spread the next slot is picked from (up to
// maxSpread) and each win narrows it, so that a few contending engines
// settle on a spread where most creates of a round trip land on distinct
// slots; an engine alone on the log, or that has not lost a slot for
// contendedFor, goes back to the next slot (spread 1), and the log stays
// dense. The slots a winner passed over are handed to skipped, which
// voids those still missing after a grace (holes.go).
//
// The HEAD that tells a slot taken by this very request (the SDK retried a
// create whose answer was lost) from one taken by another writer is only
// made when the SDK did retry.
func (a *appender) write(ctx context.Context, batch []*pending) (int64, []*pending, error) {
	nonce := driver.NewUUID().String()
	meta := map[string]string{metaNonce: nonce}
	var body []byte
	floor := int64(0) // every slot of the batch must be above this one, which exists
	encode := func() (err error) {
		s := slot{Nonce: nonce, Intents: make([]record, len(batch))}
		for i, p := range batch {
			s.Intents[i] = *p.rec
			floor = max(floor, p.above)
		}
		body, err = json.Marshal(&s)
		return err
	}
	if err := encode(); err != nil {
		return 0, batch, err
	}
	if a.spread > 1 && time.Since(a.lostAt) > contendedFor {
		a.spread = 1
	}
	a.mu.Lock()
	n, base := a.next, a.base
	a.mu.Unlock()
	if n != 0 {
		n = a.pick(base)
	}
	lost := 0 // slots lost in a row
	for {
		if n == 0 || lost >= listAfter {
			a.n.tails.Add(1)
			t, err := a.tail(ctx, max(base, 0))
			if err != nil {
				return 0, batch, err
			}
			base, n, lost = t, a.pick(t), 0
		}
		if seen := a.seen(); seen >= n {
			base, n = seen, a.pick(seen) // a reader of this engine saw the log further on
		}
		if floor >= n {
			base, n = floor, a.pick(floor) // a predecessor's slot is further on
		}
		var tries attempts
		t0 := time.Now()
		_, err := a.o.create(ctx, a.k.log(n), body, meta, tries.count)
		took := time.Since(t0)
		if errors.Is(err, errExists) {
			mine := false
			if tries.n.Load() > 1 {
				// Taken, perhaps by this very request: the SDK retried
				// it, and its first answer was lost.
				m, _, found, herr := a.o.head(ctx, a.k.log(n))
				if herr != nil {
					return 0, batch, herr
				}
				mine = found && m[metaNonce] == nonce
			}
			if !mine {
				a.n.lost.Add(1)
				a.known(n)
				a.lostAt = time.Now()
				a.spread = min(2*max(a.spread, 1), maxSpread)
				base, n = n, a.pick(n)
				lost++
				if more := a.more(batch); len(more) > len(batch) {
					batch = more
					if err := encode(); err != nil {
						return 0, batch, err
					}
				}
				continue
			}
			err = nil
		}
		if err != nil {
			a.mu.Lock()
			a.next = 0 // whether n was written is unknown: find the tail again
			a.mu.Unlock()
			return 0, batch, err
		}
		a.took = took
		a.n.slots.Add(1)
		a.known(n)
		if n > base+1 {
			a.skipped(base, n, took)
		}
		a.spread = max(a.spread-1, 1)
		a.mu.Lock()
		a.base, a.next = n, n+1
		a.mu.Unlock()
		return n, batch, nil
	}
}

// more returns batch with the intents queued since, within a slot's
// limits, taken out of the queue.
func (a *appender) more(batch []*pending) []*pending {
	size := 0
	for _, p := range batch {
		size += p.size
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(a.queue) > 0 && len(batch) < maxSlotCommits && size+a.queue[0].size <= maxSlotBytes {
		p := a.queue[0]
		p.sent = true
		batch = append(batch, p)
		size += p.size
		a.queue = a.queue[1:]
	}
	return batch
}

// listAfter is how many slots in a row a writer may lose before it LISTs
// the log's tail rather than try the next slot.
const listAfter = 3

// tail returns the last slot of the log, at least from (a slot known to
// exist, or 0), with LISTs from there.
func (a *appender) tail(ctx context.Context, from int64) (int64, error) {
	return lastSlot(ctx, a.o, a.k, from)
}

// lastSlot returns the number of the log's last slot at or after from (0
// for an empty log).
func lastSlot(ctx context.Context, o *objects, k keys, from int64) (int64, error) {
	last := from
	start := ""
	if from > 0 {
		start = k.log(from)
	}
	err := o.listAll(ctx, k.logPrefix(), start, func(keys []string) error {
		if n, ok := number(keys[len(keys)-1]); ok {
			last = n
		}
		return nil
	})
	return last, err
}

// reset forgets the tail (after Drop).
func (a *appender) reset() {
	a.mu.Lock()
	a.next, a.base = 0, 0
	a.mu.Unlock()
}
