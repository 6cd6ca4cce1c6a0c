package memory

import (
	"context"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// ReadStream returns a page of the stream's commits that hold an event in
// [q.MinRevision, q.MaxRevision], in commit sequence order.
func (e *engine) ReadStream(_ context.Context, q driver.StreamQuery) ([]driver.Commit, error) {
	sh := e.shard(q.StreamID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.find(q.BucketID, q.StreamID)
	if s == nil {
		return nil, nil
	}
	e.mu.RLock() // for the log
	defer e.mu.RUnlock()
	l := e.st.log
	i := 0
	switch {
	case q.AfterSequence > 0:
		i = s.afterSeq(q.AfterSequence)
	case s.ordered:
		i = s.fromRevision(q.MinRevision)
	}
	page := grow(q.Buf, min(q.Limit, len(s.refs)-i))
	for ; i < len(s.refs) && len(page) < q.Limit; i++ {
		r := &s.refs[i]
		if r.first > q.MaxRevision {
			if s.ordered {
				break
			}
			continue
		}
		if r.rev < q.MinRevision {
			continue
		}
		page = append(page, l.at(r.cp).c)
	}
	return page, nil
}

// ReadCommits returns a page of the commits after checkpoint q.After, of
// one bucket or of all, in checkpoint order: for all, a walk of the log
// from the position q.After names; for one bucket, of its checkpoint list.
func (e *engine) ReadCommits(_ context.Context, q driver.CommitQuery) ([]driver.Commit, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st := &e.st
	if q.BucketID != "" {
		b := st.buckets[q.BucketID]
		if b == nil {
			return nil, nil
		}
		return listed(st, q.Buf, b.cps, q.After, q.Limit, func(*entry) bool { return true }), nil
	}
	left := st.log.last() - max(q.After, st.log.base)
	if left <= 0 {
		return nil, nil
	}
	page := grow(q.Buf, int(min(int64(q.Limit), left)))
	return st.log.scan(page, q.After, q.Limit, nil), nil
}

// listed appends to buf[:0] up to limit live commits whose checkpoints cps
// lists (ascending) above after and that keep accepts. engine.mu must be
// held.
func listed(st *state, buf []driver.Commit, cps []int64, after int64, limit int, keep func(*entry) bool) []driver.Commit {
	i := searchAfter(cps, after)
	page := grow(buf, min(limit, len(cps)-i))
	for ; i < len(cps) && len(page) < limit; i++ {
		if en := st.log.at(cps[i]); en != nil && keep(en) {
			page = append(page, en.c)
		}
	}
	return page
}

// grow returns buf, emptied, with room for n elements (a new slice if it
// has not).
func grow(buf []driver.Commit, n int) []driver.Commit {
	if cap(buf) < n {
		return make([]driver.Commit, 0, n)
	}
	return buf[:0]
}
