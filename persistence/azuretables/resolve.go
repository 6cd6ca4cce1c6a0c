package azuretables

import (
	"context"
	"time"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// state is what a log slot holds.
type state int

const (
	pending   state = iota // undecided and young: its writer may still decide it
	committed              // a stored, visible commit
	dead                   // aborted, or deleted
)

// resolve decides what log row r holds. A row with a cached decision is
// what it says. Otherwise the stream's decision row n{N} tells: the
// writer's batch adds it with the commit. Without one, the slot is pending
// while younger than resolveAfter, and after that (or at once if force)
// the reader aborts it by adding n{N} itself: whichever of the writer's
// batch and this insert comes first decides the slot for good, so no
// commit can appear at a slot a reader has passed.
func (e *engine) resolve(ctx context.Context, r *row, force bool) (state, error) {
	switch {
	case r.X:
		return dead, nil
	case r.D == "c":
		return committed, nil
	case r.D == "a":
		return dead, nil
	}
	n, err := parseSlot(r.RowKey)
	if err != nil {
		return dead, err
	}
	pk := streamPK(r.B, r.S)
	d, found, err := e.get(ctx, pk, decisionRK(n, r.K))
	if err != nil {
		return pending, err
	}
	if !found {
		if !force && time.Since(r.Timestamp) < e.resolveAfter {
			return pending, nil
		}
		_, err := e.table.AddEntity(ctx, newEnt(pk, decisionRK(n, r.K)).str("O", "a").bytes(), nil)
		switch {
		case err == nil:
			e.log.mark(n, false)
			return dead, nil
		case !isExists(err):
			return pending, err
		}
		if d, found, err = e.get(ctx, pk, decisionRK(n, r.K)); err != nil || !found {
			return pending, err
		}
	}
	ok := d.O == "c"
	e.log.mark(n, ok)
	if ok {
		return committed, nil
	}
	return dead, nil
}

// settle waits for the undecided slot of log row r to be decided: its
// writer's batch, or, once the slot is older than resolveAfter, the
// reader's abort. It polls the slot's decision row, more slowly as it
// waits, and gives up (pending) when ctx has too little time left: the
// page then ends before the slot with driver.ErrPageCut, and the portable
// layer reads on from there in a new call.
//
// Readers of the log wait here rather than end the page at once: a poller
// that met a slot of a writer that died would otherwise ask again and
// again, and get nothing after it, until resolve_after had passed.
func (e *engine) settle(ctx context.Context, r *row) (state, error) {
	pause := 5 * time.Millisecond
	for {
		left := e.resolveAfter - time.Since(r.Timestamp)
		if stop, err := e.waitStep(ctx, min(pause, max(left, 0))); stop {
			return pending, err
		}
		st, err := e.resolve(ctx, r, false)
		if err != nil || st != pending {
			return st, err
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// waitStep waits d, one step of a read waiting for a writer (settle,
// closeHoles). stop says the read gives up instead: ctx has too little time
// left for d and its own requests (err nil), or is done (err is ctx's).
func (e *engine) waitStep(ctx context.Context, d time.Duration) (stop bool, err error) {
	if e.late(ctx, d) {
		return true, nil
	}
	select {
	case <-ctx.Done():
		return true, ctx.Err()
	case <-time.After(d):
		return false, nil
	}
}

// settleMargin is the least time a read that waits (for an undecided
// slot or a hole) leaves itself for its own requests; at least a quarter
// of the operation timeout.
const settleMargin = 500 * time.Millisecond

// late reports whether ctx ends too soon for a read to wait d more and
// still finish its requests: the page then ends there.
func (e *engine) late(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl)-d < max(settleMargin, e.timeout/4)
}

// commitOf returns the commit log row r holds.
func (e *engine) commitOf(ctx context.Context, r *row) (driver.Commit, error) {
	n, err := parseSlot(r.RowKey)
	if err != nil {
		return driver.Commit{}, err
	}
	return e.toCommit(ctx, r, n)
}

// toCommit builds the commit of a log or commit row.
func (e *engine) toCommit(ctx context.Context, r *row, n int64) (driver.Commit, error) {
	p, err := e.payload(ctx, r)
	if err != nil {
		return driver.Commit{}, err
	}
	id, err := driver.ParseUUID(r.I)
	if err != nil {
		return driver.Commit{}, err
	}
	return driver.Commit{
		CommitAttempt: driver.CommitAttempt{
			BucketID: r.B, StreamID: r.S, StreamRevision: r.R, CommitID: id,
			CommitSequence: r.Q, CommitStamp: time.UnixMicro(r.T).UTC(), EventCount: r.E, Payload: p,
		},
		Checkpoint: n,
	}, nil
}
