package mysql

import (
	"context"
	"iter"

	"github.com/goeventstore/eventstore/persistence"
)

// Undispatched yields the commits not yet marked dispatched, in checkpoint
// order: a range scan of ix_undispatched (undispatched = 1, checkpoint >
// last), never a table scan. Tombstones are never undispatched.
func (e *Engine) Undispatched(ctx context.Context) iter.Seq2[persistence.Commit, error] {
	return func(yield func(persistence.Commit, error) bool) {
		done, err := e.enter(ctx, "undispatched")
		if err != nil {
			yield(persistence.Commit{}, err)
			return
		}
		defer done()
		var after int64
		for {
			page, err := e.queryCommits(ctx, "undispatched", e.q.undispatched, after, e.opts.PageSize)
			if err != nil {
				yield(persistence.Commit{}, err)
				return
			}
			for _, x := range page {
				if x.tombstone {
					continue
				}
				if !yield(x.Commit, nil) {
					return
				}
			}
			if len(page) < e.opts.PageSize {
				return
			}
			after = page[len(page)-1].Checkpoint
		}
	}
}

// MarkDispatched clears the commit's undispatched flag. The row must still
// be the same commit (same checkpoint, stream and commit ID): after a Purge
// restarts numbering, marking a stale commit touches nothing.
func (e *Engine) MarkDispatched(ctx context.Context, c persistence.Commit) error {
	done, err := e.enter(ctx, "mark dispatched")
	if err != nil {
		return err
	}
	defer done()
	_, err = e.exec(ctx, e.q.markDispatched, c.Checkpoint, idKey(c.BucketID), idKey(c.StreamID), c.CommitID[:])
	if err != nil {
		return &persistence.StreamError{Op: "mark dispatched", BucketID: c.BucketID, StreamID: c.StreamID,
			CommitSequence: c.CommitSequence, CommitID: c.CommitID, Err: fail(ctx, "mark dispatched", err)}
	}
	return nil
}
