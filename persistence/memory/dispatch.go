package memory

import (
	"context"
	"iter"

	"github.com/goeventstore/eventstore/persistence"
)

// Undispatched yields the commits not yet marked dispatched, in checkpoint
// order. It walks a list of its own, not the whole log.
func (e *Engine) Undispatched(ctx context.Context) iter.Seq2[persistence.Commit, error] {
	return func(yield func(persistence.Commit, error) bool) {
		var after int64
		fail := func(err error) error { return opError("undispatched", err) }
		pages(e, ctx, yield, fail, underRLock(e, func(st *state, buf []persistence.Commit) ([]persistence.Commit, bool) {
			return e.listed(st, buf, st.und, &after, func(en *entry) bool { return !en.dispatched.Load() })
		}))
	}
}

// MarkDispatched records that c was dispatched, in O(1). Marking a commit
// twice, or one since deleted, does nothing.
//
// It does not take Engine.mu, which committers hold, but only the lock of
// the log chunk holding c, which only removals take. (Committers compact
// the undispatched list; MarkDispatched does it only if Engine.mu is free
// and many dead entries were left, as they are once commits stop.)
func (e *Engine) MarkDispatched(ctx context.Context, c persistence.Commit) error {
	if err := ctx.Err(); err != nil {
		return e.markError(c, err)
	}
	l := e.log.Load()
	if l == nil || e.closed.Load() {
		return e.markError(c, persistence.ErrClosed)
	}
	ch, en := l.slot(c.Checkpoint)
	if en == nil {
		return nil
	}
	ch.mu.RLock()
	marked := en.s != nil && en.c.CommitID == c.CommitID && en.c.StreamID == c.StreamID && en.c.BucketID == c.BucketID &&
		en.dispatched.CompareAndSwap(false, true)
	ch.mu.RUnlock()
	if !marked {
		return nil
	}
	if dead := l.undDead.Add(1); dead >= markCompactMin && 2*dead >= l.undOff.Load()+l.n.Load() && e.mu.TryLock() {
		if e.st.log == l { // not purged or dropped meanwhile
			e.st.compactUnd()
		}
		e.mu.Unlock()
	}
	return nil
}

func (e *Engine) markError(c persistence.Commit, err error) error {
	return &persistence.StreamError{Op: "mark dispatched", BucketID: c.BucketID, StreamID: c.StreamID,
		Revision: c.StreamRevision, CommitSequence: c.CommitSequence, CommitID: c.CommitID, Err: err}
}
