package s3

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Holes. Engines that contend for the log create different slots in the
// same round trip (log.go), so a slot may be missing below one that
// exists: a hole. A hole is a slot whose create is still in flight, or one
// that nobody will ever write (a writer passed over it, or died). No reader
// passes a hole as it is, since a slot landing there later would become
// visible below a checkpoint the reader returned. It settles the hole with
// the very conditional create a writer uses (If-None-Match: *), storing a
// void slot: if the create succeeds, nothing can ever land there (the late
// writer gets 412 and tries a slot further on); if it fails, a slot landed:
// the reader reads it. Either way every slot below the reader's position
// exists, and slots never change once they exist.
//
// A hole near the tail is most likely a create in flight, so a reader waits
// a grace (a few round trips) before it voids one, rather than knock the
// writer off; and a writer that passed over slots voids, after that grace,
// those still missing (in the background), so that readers seldom meet a
// hole at all.

// voidBody is the body of a void slot: a slot with no intents.
var voidBody = []byte(`{"void":true,"intents":[]}`)

// Bounds of the grace before a hole is voided.
const (
	minGrace = 20 * time.Millisecond
	maxGrace = time.Second
)

// graceFor returns the grace before voiding a hole that a request taking
// rt revealed: a few round trips, within [minGrace, maxGrace].
func graceFor(rt time.Duration) time.Duration { return min(max(4*rt, minGrace), maxGrace) }

// known records that slot n exists: the engine has seen it, and if every
// slot below it is known to exist, so is every slot up to n.
func (e *engine) known(n int64) {
	e.see(n)
	for {
		c := e.closed.Load()
		if c != n-1 || e.closed.CompareAndSwap(c, n) {
			return
		}
	}
}

// voidHoles voids the holes (slots missing when last listed) after the grace
// and returns, in order, those where a slot landed meanwhile.
func (e *engine) voidHoles(ctx context.Context, holes []int64, grace time.Duration) ([]int64, error) {
	t := time.NewTimer(grace)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
		return nil, ctx.Err()
	}
	landed := make([]bool, len(holes))
	err := each(ctx, len(holes), func(ctx context.Context, i int) error {
		_, err := e.o.create(ctx, e.k.log(holes[i]), voidBody, nil)
		if errors.Is(err, errExists) {
			landed[i] = true // or this void, retried by the SDK: reading it tells
			return nil
		}
		if err == nil {
			e.counts.voids.Add(1)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []int64
	for i, h := range holes {
		if landed[i] {
			out = append(out, h)
		}
	}
	return out, nil
}

// scan calls f with the numbers of the log's slots from slot from on, a
// listed page at a time, in order, voids included, until f reports stop.
// Before f sees a page, every slot from from up to the page's last exists:
// scan settles the holes it finds.
func (e *engine) scan(ctx context.Context, from int64, page int32, f func(ns []int64) (stop bool, err error)) error {
	expect := max(from, 1) // the next slot that must exist
	start := ""
	if expect > 1 {
		start = e.k.log(expect - 1)
	}
	for {
		t0 := time.Now()
		keys, more, err := e.o.list(ctx, e.k.logPrefix(), start, page)
		if err != nil {
			return err
		}
		rt := time.Since(t0)
		// The page's slots, and the holes among them: settled all at
		// once, after one grace.
		first := expect
		var ns, holes []int64
		for _, key := range keys {
			n, ok := number(key)
			if !ok || n < expect {
				continue
			}
			for h := expect; h < n; h++ {
				holes = append(holes, h)
			}
			ns = append(ns, n)
			expect = n + 1
		}
		var landed []int64
		if len(holes) > 0 {
			if landed, err = e.voidHoles(ctx, holes, graceFor(rt)); err != nil {
				return err
			}
		}
		for n := first; n < expect; n++ {
			e.known(n) // every slot of the page exists now, or is void
		}
		if len(landed) > 0 {
			ns = append(ns, landed...)
			slices.Sort(ns)
		}
		if len(ns) > 0 {
			if stop, err := f(ns); stop || err != nil {
				return err
			}
		}
		if !more || len(keys) == 0 {
			return nil
		}
		start = keys[len(keys)-1]
	}
}

// closeLog settles every hole up to the log's tail, from the first slot
// not known to exist on, and returns the tail.
func (e *engine) closeLog(ctx context.Context) (int64, error) {
	from := e.closed.Load() + 1
	last := from - 1
	err := e.scan(ctx, from, 1000, func(ns []int64) (bool, error) {
		last = ns[len(ns)-1]
		return false, nil
	})
	return last, err
}

// voidSkipped voids, in the background after the grace, the slots in
// (from, to) that are still missing: a writer that created slot to passed
// over them. Best effort: a reader voids what is left.
//
// Under contention a writer passes over slots at most of its wins, and
// most of those slots are taken by other writers: a LIST finds them, and
// few voids follow. So the ranges passed over while a sweep waits for its
// grace share that sweep's one LIST (LISTs cost most among S3 requests).
// In TestFairness on MinIO the shared instances then made 0.39 LISTs a
// commit, against 0.41 and 0.48 in two runs before: wins come further
// apart than a grace of a few local round trips, so few ranges share a
// sweep there; with a cloud round trip, and its longer grace, more do.
func (e *engine) voidSkipped(from, to int64, took time.Duration) {
	p := &e.passed
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ranges = append(p.ranges, passedRange{from: from, to: to, due: time.Now().Add(graceFor(took))})
	if p.sweeping {
		return
	}
	p.sweeping = true
	e.background.Add(1)
	go e.sweep()
}

// passedOver gathers the ranges of slots this engine's writers passed
// over, for the sweep in progress (see voidSkipped).
type passedOver struct {
	mu       sync.Mutex
	ranges   []passedRange
	sweeping bool // a sweep goroutine runs
}

// errListed stops a sweep's LIST once it is past the ranges swept.
var errListed = errors.New("listed")

// passedRange is a range passed over: the slots in (from, to), to created.
type passedRange struct {
	from, to int64
	due      time.Time // when its grace ends
}

// sweep voids the ranges passed over, a batch at a time: every range
// whose grace has ended when the earliest one's has, with one LIST.
func (e *engine) sweep() {
	defer e.background.Done()
	p := &e.passed
	for {
		p.mu.Lock()
		if len(p.ranges) == 0 {
			p.sweeping = false
			p.mu.Unlock()
			return
		}
		due := p.ranges[0].due
		for _, r := range p.ranges[1:] {
			if r.due.Before(due) {
				due = r.due
			}
		}
		p.mu.Unlock()
		time.Sleep(time.Until(due))
		now := time.Now()
		var batch, rest []passedRange
		p.mu.Lock()
		for _, r := range p.ranges {
			if r.due.After(now) {
				rest = append(rest, r)
			} else {
				batch = append(batch, r)
			}
		}
		p.ranges = rest
		p.mu.Unlock()
		e.voidPassed(batch)
	}
}

// voidPassed voids the slots still missing in the ranges of batch, after
// one LIST over them all, and records every slot of the ranges as known.
func (e *engine) voidPassed(batch []passedRange) {
	ctx, cancel := context.WithTimeout(context.Background(), e.log.wait)
	defer cancel()
	slices.SortFunc(batch, func(a, b passedRange) int { return cmp.Compare(a.from, b.from) })
	lo, hi := batch[0].from, batch[0].to
	for _, r := range batch[1:] {
		hi = max(hi, r.to)
	}
	exists := map[int64]bool{}
	e.counts.sweeps.Add(1)
	start := ""
	if lo > 0 {
		start = e.k.log(lo)
	}
	err := e.o.listAll(ctx, e.k.logPrefix(), start, func(keys []string) error {
		for _, k := range keys {
			n, ok := number(k)
			switch {
			case !ok:
			case n >= hi:
				return errListed
			default:
				exists[n] = true
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errListed) {
		return
	}
	var holes []int64
	for _, r := range batch {
		for h := r.from + 1; h < r.to; h++ {
			if !exists[h] {
				holes = append(holes, h)
			}
		}
	}
	slices.Sort(holes)
	holes = slices.Compact(holes)
	if _, err := e.voidHoles(ctx, holes, 0); err != nil {
		return
	}
	for _, r := range batch {
		for h := r.from + 1; h <= r.to; h++ {
			e.known(h)
		}
	}
}
