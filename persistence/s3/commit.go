package s3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Commit stores a: see "A commit, request by request" in the package
// documentation.
func (e *engine) Commit(ctx context.Context, a *driver.CommitAttempt) (driver.Commit, error) {
	e.gate.RLock()
	defer e.gate.RUnlock()
	rec := newRecord(a)
	b, s := a.BucketID, a.StreamID

	// 1. The predecessor must be committed, and its commit-ID marker
	// written, before this commit's intent exists: then every commit ID
	// committed at a lower sequence has its marker, and step 2 sees it.
	if a.CommitSequence > 1 {
		key := e.k.claim(b, s, a.CommitSequence-1)
		body, _, found, err := e.o.get(ctx, key)
		if err != nil {
			return driver.Commit{}, err
		}
		var pred record
		if found {
			if err := decode("claim", key, body, &pred); err != nil {
				return driver.Commit{}, err
			}
		}
		if !found || pred.Dead {
			return driver.Commit{}, fmt.Errorf("%w: commit sequence %d has no predecessor", driver.ErrConcurrency, a.CommitSequence)
		}
		if pred.ID == a.CommitID {
			return driver.Commit{}, fmt.Errorf("%w: commit %s is sequence %d", driver.ErrDuplicateCommit, a.CommitID, pred.Seq)
		}
		if err := e.mark(ctx, &pred); err != nil {
			return driver.Commit{}, err
		}
	}

	// 2. A commit ID already committed on the stream has its marker.
	if err := e.checkDuplicate(ctx, a); err != nil {
		return driver.Commit{}, err
	}

	// 3. The intent, in the next log slot (group commit).
	cp, err := e.log.append(ctx, &rec)
	if err != nil {
		return driver.Commit{}, err
	}
	e.see(cp >> slotBits)

	// 4. The decision: the claim of the commit sequence.
	ok, err := e.decide(ctx, &rec, cp, true)
	if err != nil {
		return driver.Commit{}, err
	}
	if !ok {
		return driver.Commit{}, e.refused(ctx, a)
	}

	// 5. The marker. Best effort: the next commit of the stream writes it
	// if this one is lost (step 1).
	if e.mark(ctx, &record{Bucket: b, Stream: s, Seq: a.CommitSequence, ID: a.CommitID, CP: cp}) != nil {
		// The commit stands; the marker is repaired later.
	}
	return rec.commit(cp), nil
}

// mark writes the commit-ID marker of the committed claim c, unless this
// engine knows it exists.
func (e *engine) mark(ctx context.Context, c *record) error {
	key := e.k.marker(c.Bucket, c.Stream, c.ID)
	if e.marked.has(key) {
		return nil
	}
	body, err := json.Marshal(marker{Seq: c.Seq, CP: c.CP})
	if err != nil {
		return err
	}
	if _, err := e.o.put(ctx, key, body, nil, ""); err != nil {
		return err
	}
	e.marked.add(key)
	return nil
}

// checkDuplicate returns ErrDuplicateCommit if a's commit ID is committed
// on its stream. A marker whose claim is no longer its commit's (the
// stream was deleted since) is stale and ignored.
func (e *engine) checkDuplicate(ctx context.Context, a *driver.CommitAttempt) error {
	key := e.k.marker(a.BucketID, a.StreamID, a.CommitID)
	body, _, found, err := e.o.get(ctx, key)
	if err != nil || !found {
		return err
	}
	var m marker
	if err := decode("marker", key, body, &m); err != nil {
		return err
	}
	st, err := e.claimState(ctx, e.k.claim(a.BucketID, a.StreamID, m.Seq))
	if err != nil {
		return err
	}
	if st.found && !st.dead && st.cp == m.CP {
		return fmt.Errorf("%w: commit %s is sequence %d", driver.ErrDuplicateCommit, a.CommitID, m.Seq)
	}
	return nil
}

// refused returns the error of an attempt whose intent the claim of its
// sequence refused: ErrDuplicateCommit if the claim holds the same commit
// ID, ErrConcurrency otherwise.
func (e *engine) refused(ctx context.Context, a *driver.CommitAttempt) error {
	key := e.k.claim(a.BucketID, a.StreamID, a.CommitSequence)
	body, _, found, err := e.o.get(ctx, key)
	if err != nil {
		return err
	}
	if found {
		var c record
		if err := decode("claim", key, body, &c); err != nil {
			return err
		}
		if !c.Dead && c.ID == a.CommitID {
			return fmt.Errorf("%w: commit %s is sequence %d", driver.ErrDuplicateCommit, a.CommitID, c.Seq)
		}
	}
	return fmt.Errorf("%w: commit sequence %d is taken", driver.ErrConcurrency, a.CommitSequence)
}

var _ = errors.Is
