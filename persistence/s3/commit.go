package s3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Commit stores a: see "A commit, request by request" in the package
// documentation.
func (e *engine) Commit(ctx context.Context, a *driver.CommitAttempt) (driver.Commit, error) {
	rec := newRecord(a)
	b, s := a.BucketID, a.StreamID

	// 1. The predecessor must be committed, and its commit-ID marker
	// written, before this commit's intent exists: then every commit ID
	// committed at a lower sequence has its marker, and step 2 sees it.
	// 2. A commit ID already committed on the stream has its marker.
	// When this engine committed the predecessor itself, both reads run at
	// once (fast); otherwise one after the other (checked).
	predCP, err := e.fast(ctx, a)
	if errors.Is(err, errSlowPath) {
		predCP, err = e.checked(ctx, a)
	}
	if err != nil {
		return driver.Commit{}, err
	}

	// 3. The intent, in the next log slot (group commit), above the
	// predecessor's: the log may have holes below the slots that exist
	// (holes.go), and a stream's commits follow each other in checkpoint
	// order.
	predSlot, _ := slotOf(predCP)
	cp, err := e.log.append(ctx, &rec, predSlot)
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

	// 5. The marker, in the background: the next commit of the stream
	// waits for it (or writes it, step 1) before its own intent.
	e.markLater(&record{Bucket: b, Stream: s, Seq: a.CommitSequence, ID: a.CommitID, CP: cp})
	return rec.commit(cp), nil
}

// errSlowPath: the fast pre-checks do not apply.
var errSlowPath = errors.New("s3: slow path")

// checked is steps 1 and 2, one after the other. It returns the
// predecessor's checkpoint (0 for the first commit).
func (e *engine) checked(ctx context.Context, a *driver.CommitAttempt) (int64, error) {
	b, s := a.BucketID, a.StreamID
	var predCP int64
	if a.CommitSequence > 1 {
		key := e.k.claim(b, s, a.CommitSequence-1)
		body, _, found, err := e.o.get(ctx, key)
		if err != nil {
			return 0, err
		}
		var pred record
		if found {
			if err := decode("claim", key, body, &pred); err != nil {
				return 0, err
			}
		}
		if !found || pred.Dead {
			return 0, fmt.Errorf("%w: commit sequence %d has no predecessor", driver.ErrConcurrency, a.CommitSequence)
		}
		if pred.ID == a.CommitID {
			return 0, fmt.Errorf("%w: commit %s is sequence %d", driver.ErrDuplicateCommit, a.CommitID, pred.Seq)
		}
		if err := e.mark(ctx, &pred); err != nil {
			return 0, err
		}
		predCP = pred.CP
	}
	return predCP, e.checkDuplicate(ctx, a)
}

// fast is steps 1 and 2 when this engine committed the predecessor, and
// returns the predecessor's checkpoint: it
// reads the predecessor's claim and looks for a's marker at once, and waits
// for the predecessor's marker. The marker lookup is valid because the
// claim turns out to be the very one this engine wrote, live throughout
// (claims never return to a checkpoint they left), and every marker below
// it was written before it.
func (e *engine) fast(ctx context.Context, a *driver.CommitAttempt) (int64, error) {
	h := e.hints.get(a.BucketID, a.StreamID)
	if a.CommitSequence == 1 || h == nil || h.Seq != a.CommitSequence-1 {
		return 0, errSlowPath
	}
	if h.ID == a.CommitID {
		return 0, fmt.Errorf("%w: commit %s is sequence %d", driver.ErrDuplicateCommit, a.CommitID, h.Seq)
	}
	var (
		st      claimState
		stErr   error
		dupErr  error
		wg      sync.WaitGroup
		markErr error
	)
	wg.Go(func() { st, stErr = e.claimState(ctx, e.k.claim(a.BucketID, a.StreamID, h.Seq)) })
	wg.Go(func() { dupErr = e.checkDuplicate(ctx, a) })
	wg.Go(func() {
		select {
		case <-h.marked:
			if h.markErr != nil {
				markErr = e.mark(ctx, &h.record)
			}
		case <-ctx.Done():
			markErr = ctx.Err()
		}
	})
	wg.Wait()
	switch {
	case stErr != nil:
		return 0, stErr
	case !st.found || st.dead || st.cp != h.CP:
		e.hints.drop(a.BucketID, a.StreamID)
		return 0, errSlowPath
	case markErr != nil:
		return 0, markErr
	}
	return h.CP, dupErr
}

// markLater writes c's marker in the background and records c as its
// stream's last commit by this engine.
func (e *engine) markLater(c *record) {
	h := &hint{record: *c, marked: make(chan struct{})}
	e.hints.set(h)
	e.background.Add(1)
	go func() {
		defer e.background.Done()
		defer close(h.marked)
		ctx, cancel := context.WithTimeout(context.Background(), e.log.wait)
		defer cancel()
		h.markErr = e.mark(ctx, c)
	}()
}

// Close waits for the markers being written in the background.
func (e *engine) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { e.background.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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
// ID, or if the stream's head claim does, ErrConcurrency otherwise.
//
// The head is looked at because it is the one claim whose marker may not
// exist yet (markers are written after the answer, and a claim is made
// only once the marker below it exists): an attempt retried at a sequence
// below its own commit (a stale retry, right after the first try was
// stored) found no marker in step 2, and only the head tells.
func (e *engine) refused(ctx context.Context, a *driver.CommitAttempt) error {
	dup := func(key string) (bool, int, error) {
		body, _, found, err := e.o.get(ctx, key)
		if err != nil || !found {
			return false, 0, err
		}
		var c record
		if err := decode("claim", key, body, &c); err != nil {
			return false, 0, err
		}
		return !c.Dead && c.ID == a.CommitID, c.Seq, nil
	}
	key := e.k.claim(a.BucketID, a.StreamID, a.CommitSequence)
	found, seq, err := dup(key)
	if err == nil && !found {
		head := ""
		err = e.o.listAll(ctx, e.k.claims(a.BucketID, a.StreamID), key, func(keys []string) error {
			head = keys[len(keys)-1]
			return nil
		})
		if err == nil && head != "" {
			found, seq, err = dup(head)
		}
	}
	if err != nil {
		return err
	}
	if found {
		return fmt.Errorf("%w: commit %s is sequence %d", driver.ErrDuplicateCommit, a.CommitID, seq)
	}
	return fmt.Errorf("%w: commit sequence %d is taken", driver.ErrConcurrency, a.CommitSequence)
}
