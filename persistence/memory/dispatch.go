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
		pages(e, ctx, yield, fail, func(st *state, buf []persistence.Commit) ([]persistence.Commit, bool) {
			i := searchAfter(st.und, after)
			buf = grow(buf, min(e.pageSize, len(st.und)-i))
			for ; i < len(st.und); i++ {
				cp := st.und[i]
				en := st.log.at(cp)
				if en == nil || en.dispatched {
					after = cp
					continue
				}
				if len(buf) == e.pageSize {
					return buf, false
				}
				buf = append(buf, en.c)
				after = cp
			}
			return buf, true
		})
	}
}

// MarkDispatched records that c was dispatched, in O(1). Marking a commit
// twice, or one since deleted, does nothing.
func (e *Engine) MarkDispatched(ctx context.Context, c persistence.Commit) error {
	if err := ctx.Err(); err != nil {
		return e.markError(c, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return e.markError(c, persistence.ErrClosed)
	}
	st := &e.st
	en := st.log.at(c.Checkpoint)
	if en == nil || en.dispatched || en.c.CommitID != c.CommitID || en.c.StreamID != c.StreamID || en.c.BucketID != c.BucketID {
		return nil
	}
	en.dispatched = true
	st.undDead++
	st.compactUnd()
	return nil
}

func (e *Engine) markError(c persistence.Commit, err error) error {
	return &persistence.StreamError{Op: "mark dispatched", BucketID: c.BucketID, StreamID: c.StreamID,
		Revision: c.StreamRevision, CommitSequence: c.CommitSequence, CommitID: c.CommitID, Err: err}
}
