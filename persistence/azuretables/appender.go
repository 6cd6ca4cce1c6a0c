package azuretables

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// The appender is the engine's one writer of the log partition: group
// commit. Commit hands it an intent (the log row of a commit, without its
// slot number) and waits; the appender packs every intent that waits into
// one entity group transaction on partition L:
//
//	[assert slot next-1 exists | assert the genesis row exists | Add genesis row 0]
//	[Merge D (decision) into up to 98 earlier slots: the cached decisions;
//	 the one of slot next-1 is the assertion]
//	Add slot next, next+1, ...   (409 if another writer took one)
//	[InsertOrMerge !tail = last slot, when the batch passes a multiple of 64]
//
// The batch is atomic: it adds all its slots or none. An appender alone on
// the log writes each batch right after its last one (asserting it), so the
// log stays dense. On 409 another writer (an engine in another process)
// took a slot: the appender reads the keys above it and tries right after
// the last one; if it lost before, less than contendedFor ago, it tries a
// random number of slots (up to laneGap) further on instead, leaving the
// slots between to the writer it met, and asserts only the genesis row.
// Contending engines thus write in lanes of their own, each its batches
// one after the other, and create several slots per round trip between
// them; the slots a writer leaves behind when it stops are holes, which
// readers close (see holes.go). On 404 or 412 (Drop) it finds the end of
// the log again (readTail). A lone writer's batch is two operations: its
// slot, and the previous one's decision.
type appender struct {
	e    *engine
	in   chan *intent
	wake chan struct{}
	quit chan struct{}

	startOnce sync.Once
	stopOnce  sync.Once
	done      chan struct{}
	bg        sync.WaitGroup // closeLane's voids

	mu    sync.Mutex
	marks map[int64]bool // slot -> committed (true) or aborted (false), to cache in the log

	next  int64       // the next slot to try; 0: find the end of the log first. Loop goroutine only.
	dense bool        // slot next-1 is known to exist: the batch asserts it. Loop goroutine only.
	reset atomic.Bool // set by Drop: find the end of the log again
	held  *intent     // an intent that did not fit the last batch

	lostAt time.Time // when this engine last lost slots to another writer (loop goroutine only)
}

// intent is one commit's log row, waiting for its slot.
type intent struct {
	build func(n int64, nonce string) []byte
	size  int
	floor int64 // the slot must be above it: the checkpoint of the stream's previous commit
	done  chan intentResult
}

type intentResult struct {
	n     int64
	nonce string // of the batch that wrote it
	err   error
}

// markDelay is how long cached decisions wait for a batch of intents to
// ride along with before the appender sends them on their own.
const markDelay = 50 * time.Millisecond

var errClosed = errors.New("azuretables: engine closed")

func newAppender(e *engine) *appender {
	return &appender{
		e: e, in: make(chan *intent), wake: make(chan struct{}, 1), quit: make(chan struct{}),
		done: make(chan struct{}), marks: map[int64]bool{},
	}
}

func (a *appender) start() { a.startOnce.Do(func() { go a.loop() }) }

// close stops the loop; intents still waiting fail with errClosed.
func (a *appender) close() {
	a.stopOnce.Do(func() { close(a.quit) })
	a.startOnce.Do(func() { close(a.done) }) // never started: nothing to wait for
	<-a.done
	a.bg.Wait()
}

// forget makes the appender find the end of the log before its next batch.
func (a *appender) forget() { a.reset.Store(true) }

// append writes it to the log and returns its slot and the nonce of the
// batch that wrote it.
func (a *appender) append(ctx context.Context, it *intent) (int64, string, error) {
	a.start()
	it.done = make(chan intentResult, 1)
	select {
	case a.in <- it:
	case <-ctx.Done():
		return 0, "", ctx.Err()
	case <-a.quit:
		return 0, "", errClosed
	}
	select {
	case r := <-it.done:
		return r.n, r.nonce, r.err
	case <-ctx.Done():
		return 0, "", ctx.Err()
	}
}

// mark caches the decision of slot n in the log, with the next batch.
func (a *appender) mark(n int64, committed bool) {
	a.mu.Lock()
	a.marks[n] = committed
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// takeMarks removes up to max cached decisions and returns them.
func (a *appender) takeMarks(max int) map[int64]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[int64]bool{}
	for n, c := range a.marks {
		if len(out) == max {
			break
		}
		out[n] = c
		delete(a.marks, n)
	}
	return out
}

func (a *appender) pendingMarks() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.marks) > 0
}

func (a *appender) loop() {
	defer close(a.done)
	var timer, idle <-chan time.Time
	for {
		var first *intent
		if a.held != nil {
			first, a.held = a.held, nil
		} else {
			select {
			case first = <-a.in:
			case <-idle:
				idle = nil
				a.closeLane()
				continue
			case <-a.wake:
				if timer == nil {
					timer = time.After(markDelay)
				}
				continue
			case <-timer:
				timer = nil
				a.flushMarks()
				if a.pendingMarks() {
					timer = time.After(markDelay)
				}
				continue
			case <-a.quit:
				if idle != nil {
					a.closeLane()
				}
				return
			}
		}
		batch := a.more([]*intent{first}, maxBatchOps-2)
		marks := a.takeMarks(maxBatchOps - 2 - len(batch))
		a.send(batch, marks)
		idle = nil
		if a.contended() {
			idle = time.After(laneIdle)
		}
		if a.pendingMarks() && timer == nil {
			timer = time.After(markDelay)
		}
	}
}

func markEntity(n int64, committed bool) []byte {
	e := newEnt(logPK, slotRK(n))
	if committed {
		e.str("D", "c")
	} else {
		e.str("D", "a").boolean("W", true)
	}
	return e.bytes()
}

// flushMarks sends cached decisions on their own, best effort.
func (a *appender) flushMarks() {
	marks := a.takeMarks(maxBatchOps)
	if len(marks) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.e.timeout)
	defer cancel()
	t := &tx{}
	for n, c := range marks {
		t.add(aztables.TransactionTypeUpdateMerge, logPK, markEntity(n, c), &etagAny)
	}
	_ = a.e.submit(ctx, t) // a lost decision costs readers a point read, nothing else
}

// contendedFor is how long after losing slots an engine takes the log for
// contended: a loss within it sends the appender to a lane of its own.
const contendedFor = 10 * time.Second

// laneGap bounds how far past the end of the log a contended appender
// starts its lane: the slots between are left to the writer it met.
const laneGap = 128

// send appends batch to the log, with marks riding along, and reports
// whether it did.
func (a *appender) send(batch []*intent, marks map[int64]bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), a.e.timeout)
	defer cancel()
	fail := func(err error) bool {
		for _, it := range batch {
			it.done <- intentResult{err: err}
		}
		return false
	}
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		if a.reset.Swap(false) || a.next == 0 {
			tail, err := a.e.readTail(ctx)
			if err != nil {
				return fail(err)
			}
			a.next, a.dense = tail+1, true
		}
		for _, it := range batch {
			if it.floor >= a.next {
				// The stream's previous commit is above the lane: go past it.
				a.next, a.dense = it.floor+1, false
			}
		}
		nonce := newNonce()
		t := &tx{}
		pred := a.next - 1
		last := a.next + int64(len(batch)) - 1
		switch _, ok := marks[pred]; {
		case pred == 0:
			t.add(aztables.TransactionTypeAdd, logPK, newEnt(logPK, genesisRK).bytes(), nil)
		case !a.dense:
			// The slots below are another writer's to fill (or holes for
			// readers to close): assert only that the log is the one we
			// wrote to (Drop).
			t.add(aztables.TransactionTypeUpdateMerge, logPK, newEnt(logPK, genesisRK).bytes(), &etagAny)
		case !ok:
			// asserts that the previous slot exists: a lone writer's log
			// stays dense
			t.add(aztables.TransactionTypeUpdateMerge, logPK, newEnt(logPK, slotRK(pred)).bytes(), &etagAny)
		}
		for n, c := range marks {
			if n >= a.next && n <= last {
				// The tail read after a reset lies at or below this slot: the
				// batch adds slots from a.next, and a batch may name a row only
				// once. The decision is a cache; readers read it from the
				// stream.
				continue
			}
			t.add(aztables.TransactionTypeUpdateMerge, logPK, markEntity(n, c), &etagAny)
		}
		for i, it := range batch {
			t.add(aztables.TransactionTypeAdd, logPK, it.build(a.next+int64(i), nonce), nil)
		}
		if last/tailEvery != (a.next-1)/tailEvery {
			// Now and then, the hint that spares a writer that must find
			// the end of the log most of the scan.
			t.add(aztables.TransactionTypeInsertMerge, logPK, newEnt(logPK, tailRK).i64("N", last).bytes(), nil)
		}
		err := a.e.submit(ctx, t)
		if err != nil {
			// A lost answer that the SDK retried comes back as 409 on our
			// own rows: the nonce tells.
			r, found, gerr := a.e.get(ctx, logPK, slotRK(a.next))
			if gerr == nil && found && r.K == nonce {
				err = nil
			}
		}
		if err == nil {
			for i, it := range batch {
				it.done <- intentResult{n: a.next + int64(i), nonce: nonce}
			}
			a.next, a.dense = last+1, true
			return true
		}
		if !isConflict(err) {
			a.next = 0
			return fail(err)
		}
		if s, _ := status(err); s != http.StatusConflict {
			a.next = 0
			marks = nil // a cached decision of a slot that is gone (Drop)
			for _, it := range batch {
				it.floor = 0 // so is the stream's previous commit
			}
			a.e.seen.clear()
		} else if err := a.moveOn(ctx); err != nil {
			return fail(err)
		}
		// The commits that came meanwhile go along: under contention
		// every slot won carries as many as can be.
		batch = a.more(batch, maxBatchOps-2-len(marks))
	}
}

// laneIdle is how long a contended appender waits for intents before it
// closes the rest of its lane.
const laneIdle = 500 * time.Millisecond

// contended reports whether the appender lost slots less than
// contendedFor ago.
func (a *appender) contended() bool {
	return !a.lostAt.IsZero() && time.Since(a.lostAt) < contendedFor
}

// closeLane voids, in the background, the slots from next up to the
// first slot above that exists, if any: the rest of the appender's lane,
// which it leaves when it has nothing to write, so that readers need not
// wait resolve_after there. The appender finds the end of the log again
// before its next batch (which therefore lands above the voided slots).
// Best effort: a hole left is closed by readers.
func (a *appender) closeLane() {
	from := a.next
	if from == 0 {
		return
	}
	a.next = 0
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), a.e.timeout)
		defer cancel()
		keys, _, err := a.e.slotsIn(ctx, from-1, -1, 1)
		if err == nil && len(keys) > 0 && keys[0].n > from {
			a.e.void(ctx, from-1, keys[0].n)
		}
	}()
}

// moveOn picks the next slot to try after another writer (or a reader
// closing a hole) took one of next's: right after the last slot above
// next, or, if the appender lost less than contendedFor ago, a random
// number of slots further on, into a lane of its own.
func (a *appender) moveOn(ctx context.Context) error {
	end, err := a.e.lastAbove(ctx, a.next-1)
	if err != nil {
		return err
	}
	a.next, a.dense = end+1, true
	if a.contended() {
		a.next += 1 + rand.Int64N(laneGap)
		a.dense = false
	}
	a.lostAt = time.Now()
	return nil
}

// more adds the intents waiting to be appended to batch, up to room of
// them and the body budget.
func (a *appender) more(batch []*intent, room int) []*intent {
	size := 0
	for _, it := range batch {
		size += it.size
	}
	for a.held == nil && len(batch) < room {
		select {
		case it := <-a.in:
			if size+it.size > bodyBudget {
				a.held = it
				return batch
			}
			batch = append(batch, it)
			size += it.size
		default:
			return batch
		}
	}
	return batch
}

// tailEvery is how often (in slots) log batches raise the !tail hint.
const tailEvery = 64

// tailHint returns the !tail hint: a slot that exists (0 if none), at most
// about tailEvery below the end of the log.
func (e *engine) tailHint(ctx context.Context) (int64, error) {
	r, found, err := e.get(ctx, logPK, tailRK)
	if err != nil || !found {
		return 0, err
	}
	return r.N, nil
}

// readTail returns the greatest slot written, 0 if none: it reads the
// !tail hint, then the keys of the log rows above it.
func (e *engine) readTail(ctx context.Context) (int64, error) {
	tail, err := e.tailHint(ctx)
	if err != nil {
		return 0, err
	}
	filter := fmt.Sprintf("PartitionKey eq '%s' and RowKey gt '%s'", logPK, slotRK(tail))
	sel := "RowKey"
	p := e.table.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter, Select: &sel})
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		if k := len(page.Entities); k > 0 {
			var last struct{ RowKey string }
			if err := json.Unmarshal(page.Entities[k-1], &last); err != nil {
				return 0, err
			}
			if tail, err = parseSlot(last.RowKey); err != nil {
				return 0, err
			}
		}
	}
	return tail, nil
}
