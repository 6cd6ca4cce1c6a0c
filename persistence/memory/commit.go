package memory

import (
	"context"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Commit stores a and returns it with its checkpoint. a.Payload is kept,
// not copied: see the package documentation.
func (e *engine) Commit(_ context.Context, a *driver.CommitAttempt) (driver.Commit, error) {
	return e.commit(a, nil)
}

// valueEngine is the engine that keeps values (the default; see
// WithKeepValues): a driver.ValueCommitter.
type valueEngine struct{ *engine }

// CommitValue is Commit, keeping v, the caller's in-process form of the
// payload, to return it in Commit.Value on every read.
func (e valueEngine) CommitValue(_ context.Context, a *driver.CommitAttempt, v any) (driver.Commit, error) {
	return e.commit(a, v)
}

// commit checks the stream and records the commit in its index under its
// shard's lock; only taking the next checkpoint and publishing the commit
// in the log and the bucket's and undispatched indexes are done under
// engine.mu, in one short section, so that commits become visible in
// checkpoint order.
func (e *engine) commit(a *driver.CommitAttempt, v any) (driver.Commit, error) {
	c := driver.Commit{CommitAttempt: *a, Value: v}

	sh := e.shard(a.StreamID)
	sh.mu.Lock()
	s := sh.find(a.BucketID, a.StreamID)
	i := 0
	if s != nil {
		if s.hasID(a.CommitID) {
			sh.mu.Unlock()
			return driver.Commit{}, driver.ErrDuplicateCommit
		}
		var taken bool
		if i, taken = s.findSeq(a.CommitSequence); taken {
			sh.mu.Unlock()
			return driver.Commit{}, driver.ErrConcurrency
		}
	}

	e.mu.Lock()
	st := &e.st
	if s == nil {
		s = st.create(sh, a.BucketID, a.StreamID)
	}
	cp := st.log.append(&c, s)
	s.b.cps = append(s.b.cps, cp)
	st.addUnd(cp)
	e.mu.Unlock()

	s.insert(i, ref{seq: a.CommitSequence, first: a.FirstRevision(), rev: a.StreamRevision, cp: cp, id: a.CommitID})
	sh.last = s
	sh.mu.Unlock()
	return c, nil
}
