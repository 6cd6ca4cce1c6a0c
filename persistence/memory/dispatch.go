package memory

import (
	"context"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Undispatched returns a page of the commits not yet marked dispatched
// after checkpoint after, in checkpoint order. It walks a list of its own,
// not the whole log.
func (e *engine) Undispatched(_ context.Context, after int64, limit int) ([]driver.Commit, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return listed(&e.st, nil, e.st.und, after, limit, func(en *entry) bool { return !en.dispatched.Load() }), nil
}

// MarkDispatched records that c was dispatched, in O(1). Marking a commit
// twice, or one since deleted, does nothing.
//
// It does not take engine.mu, which committers hold, but only the lock of
// the log chunk holding c, which only removals take. (Committers compact
// the undispatched list; MarkDispatched does it only if engine.mu is free
// and many dead entries were left, as they are once commits stop.)
func (e *engine) MarkDispatched(_ context.Context, c driver.Commit) error {
	l := e.log.Load()
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

// MarkDispatchedBatch marks each commit of cs as MarkDispatched does: in
// memory a mark costs no round trip, so a batch is only a loop.
func (e *engine) MarkDispatchedBatch(ctx context.Context, cs []driver.Commit) error {
	for _, c := range cs {
		if err := e.MarkDispatched(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

var _ driver.DispatchBatcher = (*engine)(nil)
