package s3

import (
	"context"
	"encoding/json"
	"errors"
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
		n, err := a.write(ctx, batch)
		cancel()
		for i, p := range batch {
			p.cp, p.err = checkpointOf(n, i), err
			close(p.done)
		}
	}
}

// write stores batch as one new slot and returns its number.
func (a *appender) write(ctx context.Context, batch []*pending) (int64, error) {
	s := slot{Nonce: driver.NewUUID().String(), Intents: make([]record, len(batch))}
	for i, p := range batch {
		s.Intents[i] = *p.rec
	}
	body, err := json.Marshal(&s)
	if err != nil {
		return 0, err
	}
	a.mu.Lock()
	n := a.next
	a.mu.Unlock()
	for {
		if n == 0 {
			t, err := a.tail(ctx, 0)
			if err != nil {
				return 0, err
			}
			n = t + 1
		}
		_, err := a.o.create(ctx, a.k.log(n), body, map[string]string{metaNonce: s.Nonce})
		if errors.Is(err, errExists) {
			// Taken: by another writer, or by this very request whose
			// first answer was lost and which the SDK retried.
			meta, _, found, herr := a.o.head(ctx, a.k.log(n))
			if herr != nil {
				return 0, herr
			}
			if found && meta[metaNonce] == s.Nonce {
				err = nil
			} else {
				t, terr := a.tail(ctx, n)
				if terr != nil {
					return 0, terr
				}
				n = t + 1
				continue
			}
		}
		if err != nil {
			a.mu.Lock()
			a.next = 0 // whether n was written is unknown: find the tail again
			a.mu.Unlock()
			return 0, err
		}
		a.mu.Lock()
		a.next = n + 1
		a.mu.Unlock()
		return n, nil
	}
}

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
