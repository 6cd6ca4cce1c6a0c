package s3

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// The global log, written by group commit: every commit of this process
// that is waiting for a slot goes into the next slot, one conditional
// create for all of them, so that writers on distinct streams share the
// one request that contends on the log's tail.
//
// The log stays dense: slot N is only ever created by a writer that has
// seen slot N-1 exist (through a LIST, a 412 on N-1, or its own create of
// N-1). A reader that lists the log from its last checkpoint therefore
// never finds a slot appear below one it has passed.

// Limits of one slot.
const (
	maxSlotCommits = 1 << slotBits
	maxSlotBytes   = 8 << 20
)

// metaNonce is the user metadata of a log slot naming its writer's nonce,
// so that a writer recognises its own slot with a HEAD.
const metaNonce = "nonce"

// appender writes the log slots of one engine.
type appender struct {
	o    *objects
	k    keys
	wait time.Duration // bound of a slot write, which outlives the callers that queued it
	seen func() int64  // the greatest slot the engine has seen exist

	// Contention, seen by the slot writes (which run one at a time).
	lostAt time.Time     // when this engine last lost a slot to another writer
	took   time.Duration // how long the last slot create took

	mu      sync.Mutex
	queue   []*pending
	running bool
	next    int64 // the slot to try next; 0: find the tail with a LIST
}

// pending is one intent waiting for its slot.
type pending struct {
	rec  *record
	size int
	sent bool // taken into a slot write: no longer cancellable
	done chan struct{}
	cp   int64
	err  error
}

// append writes rec into the next log slot and returns its checkpoint.
// If ctx ends before rec was taken into a slot write it returns ctx's
// error and nothing was sent.
func (a *appender) append(ctx context.Context, rec *record) (int64, error) {
	p := &pending{rec: rec, size: len(rec.Data) + 256, done: make(chan struct{})}
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
		if err == nil {
			a.yield()
		}
	}
}

// contendedFor is how long after losing a slot an engine takes the log
// for contended.
const contendedFor = 10 * time.Second

// yield lets other engines have the next slot after this one won one,
// while the log is contended: it waits about as long as a slot create
// takes before it sends its next batch (which grows meanwhile). Without
// it, the engine that just won would always be first at the next slot: it
// knows the slot's number before any loser does. Engines alone on the log
// never wait.
func (a *appender) yield() {
	if a.lostAt.IsZero() || time.Since(a.lostAt) > contendedFor {
		return
	}
	d := min(a.took, maxYield)
	// Randomised, so that engines that yield do not come back in step.
	time.Sleep(d/2 + time.Duration(rand.Int64N(int64(d)+1)))
}

// maxYield bounds a yield.
const maxYield = time.Second

// write stores batch as one new slot and returns its number, and the
// batch it stored: the intents queued while it lost slots to other
// writers go along (a slot won under contention carries as many as it
// can).
//
// Slots are contended by every engine writing to the store, and the way a
// writer that lost one tries again decides who gets the next: an engine
// that just won slot N sends its next batch for N+1 at once, so a loser
// that first looked around (a HEAD, a LIST) would always come second and
// starve. So a 412 on slot N, which proves N exists, is followed at once by
// a create of N+1; only after several losses in a row, when the writer is
// likely behind, does it LIST the tail. The HEAD that tells a slot taken by
// this very request (the SDK retried a create whose answer was lost) from
// one taken by another writer is only made when the SDK did retry.
func (a *appender) write(ctx context.Context, batch []*pending) (int64, []*pending, error) {
	nonce := driver.NewUUID().String()
	meta := map[string]string{metaNonce: nonce}
	var body []byte
	encode := func() (err error) {
		s := slot{Nonce: nonce, Intents: make([]record, len(batch))}
		for i, p := range batch {
			s.Intents[i] = *p.rec
		}
		body, err = json.Marshal(&s)
		return err
	}
	if err := encode(); err != nil {
		return 0, batch, err
	}
	a.mu.Lock()
	n := a.next
	a.mu.Unlock()
	lost := 0 // slots lost in a row
	for {
		if n == 0 || lost >= listAfter {
			t, err := a.tail(ctx, max(n-1, 0))
			if err != nil {
				return 0, batch, err
			}
			n, lost = t+1, 0
		}
		if seen := a.seen(); seen >= n {
			n = seen + 1 // a reader of this engine saw the log further on
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
				a.lostAt = time.Now()
				n++
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
		a.mu.Lock()
		a.next = n + 1
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
	a.next = 0
	a.mu.Unlock()
}
