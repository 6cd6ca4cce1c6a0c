package memory

import (
	"context"

	"github.com/goeventstore/eventstore/persistence"
)

// Commit stores attempt and returns it with its checkpoint. The attempt's
// Payload and Decoded are kept, not copied: see the package documentation.
func (e *Engine) Commit(ctx context.Context, attempt *persistence.CommitAttempt) (persistence.Commit, error) {
	if err := persistence.ValidateAttempt(attempt); err != nil {
		return persistence.Commit{}, err
	}
	if err := ctx.Err(); err != nil {
		return persistence.Commit{}, persistence.CommitError(attempt, err)
	}
	c := persistence.Commit{CommitAttempt: *attempt}

	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return persistence.Commit{}, persistence.CommitError(attempt, persistence.ErrClosed)
	}
	st := &e.st
	s, b := st.find(attempt.BucketID, attempt.StreamID)
	i := 0
	if s != nil {
		if s.hasID(attempt.CommitID) {
			e.mu.Unlock()
			return persistence.Commit{}, persistence.CommitError(attempt, persistence.ErrDuplicateCommit)
		}
		var taken bool
		if i, taken = s.findSeq(attempt.CommitSequence); taken {
			e.mu.Unlock()
			return persistence.Commit{}, persistence.CommitError(attempt, persistence.ErrConcurrency)
		}
	} else {
		s = st.create(b, attempt.BucketID, attempt.StreamID)
	}
	cp := st.log.append(&c, s)
	s.insert(i, ref{seq: attempt.CommitSequence, first: attempt.FirstRevision(), rev: attempt.StreamRevision, cp: cp, id: attempt.CommitID})
	s.b.cps = append(s.b.cps, cp)
	st.und = append(st.und, cp)
	st.last = s
	e.mu.Unlock()
	return c, nil
}
