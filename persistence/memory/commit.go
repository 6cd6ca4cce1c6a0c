package memory

import (
	"context"

	"github.com/goeventstore/eventstore/persistence"
)

// Commit stores attempt and returns it with its checkpoint. The attempt's
// Payload and Decoded are kept, not copied: see the package documentation.
//
// The stream's checks and index are done under its shard's lock; only
// taking the next checkpoint and publishing the commit in the log and the
// bucket's and undispatched indexes are done under Engine.mu, in one short
// section, so that commits become visible in checkpoint order.
func (e *Engine) Commit(ctx context.Context, attempt *persistence.CommitAttempt) (persistence.Commit, error) {
	if err := persistence.ValidateAttempt(attempt); err != nil {
		return persistence.Commit{}, err
	}
	if err := ctx.Err(); err != nil {
		return persistence.Commit{}, persistence.CommitError(attempt, err)
	}
	c := persistence.Commit{CommitAttempt: *attempt}

	sh := e.shard(attempt.BucketID, attempt.StreamID)
	sh.mu.Lock()
	if e.closed.Load() {
		sh.mu.Unlock()
		return persistence.Commit{}, persistence.CommitError(attempt, persistence.ErrClosed)
	}
	s := sh.find(attempt.BucketID, attempt.StreamID)
	i := 0
	if s != nil {
		if s.hasID(attempt.CommitID) {
			sh.mu.Unlock()
			return persistence.Commit{}, persistence.CommitError(attempt, persistence.ErrDuplicateCommit)
		}
		var taken bool
		if i, taken = s.findSeq(attempt.CommitSequence); taken {
			sh.mu.Unlock()
			return persistence.Commit{}, persistence.CommitError(attempt, persistence.ErrConcurrency)
		}
	}

	e.mu.Lock()
	st := &e.st
	if s == nil {
		s = st.create(sh, attempt.BucketID, attempt.StreamID)
	}
	cp := st.log.append(&c, s)
	s.b.cps = append(s.b.cps, cp)
	st.addUnd(cp)
	e.mu.Unlock()

	s.insert(i, ref{seq: attempt.CommitSequence, first: attempt.FirstRevision(), rev: attempt.StreamRevision, cp: cp, id: attempt.CommitID})
	sh.last = s
	sh.mu.Unlock()
	return c, nil
}
