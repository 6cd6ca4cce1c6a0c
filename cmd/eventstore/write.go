package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// item is a commit to copy, at payload level, and whether it was
// dispatched at the source.
type item struct {
	c          persistence.Commit
	dispatched bool
}

// writer writes commits into a target engine the way copy and import do:
// in source order, one commit at a time, keeping commit IDs, stamps,
// sequences, revisions and payloads byte for byte, so that the target's
// checkpoint order is the source's. A commit the target already holds
// (same stream, same commit ID: an earlier, interrupted run) is skipped
// and its target checkpoint looked up. A target that can store a commit
// marked dispatched in one request (MySQL, Mongo) gets the copies of
// dispatched commits that way. Otherwise commits are marked dispatched in the
// target when they were dispatched at the source (or always, markAll), in
// batches by a few goroutines beside the writer (Engine.MarkDispatchedBatch:
// one round trip per batch on engines that batch), so that a copy does not
// dispatch everything again at the target's next Build; a commit is marked
// only once it is stored in the target. Each commit is recorded in
// the checkpoint map once it is written and marked, in source order, so
// the map's last line is always a safe place to resume from.
type writer struct {
	dst      *persistence.Engine
	m        *cpMap
	markAll  bool
	markNone bool // mark nothing: the target dispatches every copied commit
	markers  int
	p        progress
	base     int64         // progress counts source checkpoints past base
	wrote    func()        // called after each commit written (tests); nil: nothing
	pace     time.Duration // a pause after each commit (tests that stop a copy midway)

	mu      sync.Mutex
	next    int          // the index of the next commit to record in the map
	pending map[int]done // finished out of order, waiting for next
	err     error        // the first failure
	copied  int64        // written
	skipped int64        // already there
	marked  int64        // marked dispatched
}

type done struct{ src, dst int64 }

type markJob struct {
	idx int
	c   persistence.Commit
	src int64
}

// run writes the items of src until it ends, ctx is done (at a safe point:
// between commits) or something fails.
func (w *writer) run(ctx context.Context, src iter.Seq2[item, error]) error {
	wctx := context.WithoutCancel(ctx) // a write once begun is finished
	w.pending = map[int]done{}
	mark := w.dst.Supports(persistence.Dispatch) && !w.markNone
	// atOnce: the target stores a copy marked dispatched in the commit's
	// own request (persistence.DispatchedCommit), so no mark follows; a
	// copy found already there (a resumed copy) is still marked after.
	atOnce := w.dst.Supports(persistence.DispatchedCommit)

	// read ahead in a goroutine, so that reading a page overlaps writing
	rctx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	type read struct {
		it  item
		err error
	}
	in := make(chan read, 1024)
	go func() {
		defer close(in)
		for it, err := range src {
			select {
			case in <- read{it, err}:
			case <-rctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	jobs := make(chan markJob, 2*markBatch)
	var wg sync.WaitGroup
	for range w.markers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]markJob, 0, markBatch)
			for j := range jobs {
				// Take what else is waiting, up to markBatch: the batches
				// grow as far as marking lags behind the writer.
				batch = append(batch[:0], j)
			more:
				for len(batch) < markBatch {
					select {
					case j, ok := <-jobs:
						if !ok {
							break more
						}
						batch = append(batch, j)
					default:
						break more
					}
				}
				w.mark(wctx, batch)
			}
		}()
	}

	idx := 0
	var inline []markJob // the writer's own batch, without markers
	var runErr error
loop:
	for {
		var r read
		var ok bool
		select {
		case <-ctx.Done():
			runErr = ctx.Err()
			break loop
		case r, ok = <-in:
		}
		if !ok {
			break
		}
		if r.err != nil {
			if ctx.Err() != nil {
				runErr = ctx.Err()
			} else {
				runErr = fmt.Errorf("reading the source: %w", r.err)
			}
			break
		}
		if ctx.Err() != nil || w.failed() {
			runErr = ctx.Err()
			break
		}
		c := r.it.c
		wantMark := mark && (w.markAll || r.it.dispatched)
		tc, dup, err := w.write(wctx, &c, wantMark && atOnce)
		if err != nil {
			w.fail(err)
			break
		}
		if w.wrote != nil {
			w.wrote()
		}
		if w.pace > 0 {
			time.Sleep(w.pace)
		}
		w.mu.Lock()
		if dup {
			w.skipped++
		} else {
			w.copied++
		}
		w.mu.Unlock()
		switch {
		case wantMark && atOnce && !dup: // stored marked
			w.mu.Lock()
			w.marked++
			w.mu.Unlock()
			w.complete(idx, c.Checkpoint, tc.Checkpoint)
		case mark && (w.markAll || r.it.dispatched) && w.markers > 0:
			jobs <- markJob{idx: idx, c: tc, src: c.Checkpoint}
		case mark && (w.markAll || r.it.dispatched):
			// no markers: the writer marks, in line, a batch at a time
			inline = append(inline, markJob{idx: idx, c: tc, src: c.Checkpoint})
			if len(inline) == markBatch {
				w.mark(wctx, inline)
				inline = inline[:0]
			}
		default:
			w.complete(idx, c.Checkpoint, tc.Checkpoint)
		}
		idx++
	}
	if len(inline) > 0 {
		w.mark(wctx, inline) // stored: mark them, also after Ctrl-C
	}
	close(jobs)
	wg.Wait()
	stopRead()
	for range in { // let the reader end
	}
	if err := w.m.flush(); err != nil && w.err == nil {
		w.err = err
	}
	if w.err != nil {
		return w.err
	}
	return runErr
}

// markBatch is the most copied commits marked dispatched at once (one
// Engine.MarkDispatchedBatch call: one round trip on engines that batch).
// Beyond a hundred or so a batch saves little more, and on a server that
// pays per updated document (FerretDB on SQLite: ~26 ms each) a larger one
// only makes each call longer.
const markBatch = 128

// mark marks the copies of batch dispatched in the target, then records
// them done. After a failure it does nothing.
func (w *writer) mark(ctx context.Context, batch []markJob) {
	if w.failed() {
		return
	}
	cs := make([]persistence.Commit, len(batch))
	for i := range batch {
		cs[i] = batch[i].c
	}
	if err := w.dst.MarkDispatchedBatch(ctx, cs); err != nil {
		w.fail(fmt.Errorf("marking the copies of source checkpoints %d to %d dispatched: %w", batch[0].src, batch[len(batch)-1].src, err))
		return
	}
	w.mu.Lock()
	w.marked += int64(len(batch))
	w.mu.Unlock()
	for _, j := range batch {
		w.complete(j.idx, j.src, j.c.Checkpoint)
	}
}

// write stores c in the target, marked dispatched if dispatched is set
// (Engine.CommitDispatched), or finds it there. dup reports that it was
// there already.
func (w *writer) write(ctx context.Context, c *persistence.Commit, dispatched bool) (tc persistence.Commit, dup bool, err error) {
	a := c.CommitAttempt
	if dispatched {
		tc, err = w.dst.CommitDispatched(ctx, &a)
	} else {
		tc, err = w.dst.Commit(ctx, &a)
	}
	if err == nil {
		return tc, false, nil
	}
	where := fmt.Sprintf("source checkpoint %d (bucket %q stream %q sequence %d commit %s)", c.Checkpoint, c.BucketID, c.StreamID, c.CommitSequence, c.CommitID)
	switch {
	case errors.Is(err, persistence.ErrDuplicateCommit):
		for t, err := range w.dst.ReadStream(ctx, c.BucketID, c.StreamID, c.FirstRevision(), c.StreamRevision) {
			if err != nil {
				return tc, true, fmt.Errorf("looking up the copy of %s: %w", where, err)
			}
			if t.CommitID == c.CommitID && t.CommitSequence == c.CommitSequence {
				return t, true, nil
			}
		}
		return tc, true, fmt.Errorf("%s: the target holds this commit ID at another place in the stream: the target is not a copy of this source; copy into an empty store", where)
	case errors.Is(err, persistence.ErrConcurrency):
		return tc, false, fmt.Errorf("%s: the target stream already holds another commit at that sequence: the target is not a copy of this source; copy into an empty store (or purge the target)", where)
	}
	return tc, false, fmt.Errorf("writing %s: %w", where, err)
}

// complete records commit idx as done; the map and the progress advance
// over every commit done without a gap before it.
func (w *writer) complete(idx int, src, dst int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending[idx] = done{src, dst}
	for {
		d, ok := w.pending[w.next]
		if !ok {
			break
		}
		delete(w.pending, w.next)
		w.next++
		if err := w.m.add(d.src, d.dst); err != nil && w.err == nil {
			w.err = err
		}
		if w.next%64 == 0 { // a Set costs up to a microsecond: not per commit
			w.p.Set(d.src - w.base)
		}
	}
}

func (w *writer) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *writer) failed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err != nil
}

// summary is what copy and import report.
type summary struct {
	Copied  int64   `json:"copied"`
	Skipped int64   `json:"already_there"`
	Marked  int64   `json:"marked_dispatched"`
	Last    int64   `json:"last_source_checkpoint"`
	Map     string  `json:"checkpoint_map"`
	Seconds float64 `json:"seconds"`
	Rate    string  `json:"rate"`
}

func (w *writer) summary(mapPath string, el time.Duration) summary {
	w.mu.Lock()
	defer w.mu.Unlock()
	return summary{Copied: w.copied, Skipped: w.skipped, Marked: w.marked, Last: w.m.last, Map: mapPath,
		Seconds: el.Seconds(), Rate: rate(w.copied+w.skipped, el)}
}
