package memory

import (
	"context"
	"iter"

	"github.com/goeventstore/eventstore/persistence"
)

// pages runs a paged read: fetch copies one page into buf under the locks it
// needs and reports whether it was the last, and false for ok if the engine
// is closed; pages yields the page outside the locks. fail wraps the error
// of a done ctx or a closed engine.
func pages[T any](e *Engine, ctx context.Context, yield func(T, error) bool, fail func(error) error,
	fetch func(buf []T) (page []T, done, ok bool)) {
	var buf []T
	var zero T
	for {
		if err := ctx.Err(); err != nil {
			yield(zero, fail(err))
			return
		}
		var done, ok bool
		if buf, done, ok = fetch(buf[:0]); !ok {
			yield(zero, fail(persistence.ErrClosed))
			return
		}
		for i := range buf {
			if !yield(buf[i], nil) {
				return
			}
		}
		if done {
			return
		}
	}
}

// underRLock adapts fetch, a page read that needs only Engine.mu, to
// pages: it runs fetch with Engine.mu read-held, unless the engine is
// closed.
func underRLock[T any](e *Engine, fetch func(st *state, buf []T) (page []T, done bool)) func([]T) ([]T, bool, bool) {
	return func(buf []T) ([]T, bool, bool) {
		e.mu.RLock()
		defer e.mu.RUnlock()
		if e.closed.Load() {
			return buf, true, false
		}
		page, done := fetch(&e.st, buf)
		return page, done, true
	}
}

// listed copies into buf a page of the live commits whose checkpoints cps
// lists (ascending) above *after and that keep accepts, moving *after past
// every checkpoint examined, and reports whether it reached the end of cps.
// Engine.mu must be held.
func (e *Engine) listed(st *state, buf []persistence.Commit, cps []int64, after *int64, keep func(*entry) bool) ([]persistence.Commit, bool) {
	i := searchAfter(cps, *after)
	buf = grow(buf, min(e.pageSize, len(cps)-i))
	for ; i < len(cps); i++ {
		en := st.log.at(cps[i])
		if en != nil && keep(en) {
			if len(buf) == e.pageSize {
				return buf, false
			}
			buf = append(buf, en.c)
		}
		*after = cps[i]
	}
	return buf, true
}

// grow returns buf, empty, with room for n elements.
func grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, 0, n)
	}
	return buf[:0]
}

// ReadStream yields the commits of a stream that hold an event in
// [minRevision, maxRevision], in commit sequence order.
func (e *Engine) ReadStream(ctx context.Context, bucketID, streamID string, minRevision, maxRevision int) iter.Seq2[persistence.Commit, error] {
	return func(yield func(persistence.Commit, error) bool) {
		if err := validateStream(bucketID, streamID); err != nil {
			yield(persistence.Commit{}, err)
			return
		}
		if err := persistence.ValidateRange(minRevision, maxRevision); err != nil {
			yield(persistence.Commit{}, err)
			return
		}
		fail := func(err error) error { return streamError("read stream", bucketID, streamID, minRevision, err) }
		first, lastSeq := true, 0
		sh := e.shard(bucketID, streamID)
		pages(e, ctx, yield, fail, func(buf []persistence.Commit) ([]persistence.Commit, bool, bool) {
			sh.mu.Lock()
			defer sh.mu.Unlock()
			if e.closed.Load() {
				return buf, true, false
			}
			s := sh.find(bucketID, streamID)
			if s == nil {
				return buf, true, true
			}
			e.mu.RLock() // for the log
			defer e.mu.RUnlock()
			st := &e.st
			i := 0
			switch {
			case !first:
				i = s.afterSeq(lastSeq)
			case s.ordered:
				i = s.fromRevision(minRevision)
			}
			first = false
			buf = grow(buf, min(e.pageSize, len(s.refs)-i))
			for ; i < len(s.refs); i++ {
				r := &s.refs[i]
				if maxRevision > 0 && r.first > maxRevision {
					if s.ordered {
						break
					}
					continue
				}
				if r.rev < minRevision {
					continue
				}
				if len(buf) == e.pageSize {
					return buf, false, true
				}
				buf = append(buf, st.log.at(r.cp).c)
				lastSeq = r.seq
			}
			return buf, true, true
		})
	}
}

// ReadAll yields every commit with a checkpoint above after, in checkpoint
// order.
func (e *Engine) ReadAll(ctx context.Context, after int64) iter.Seq2[persistence.Commit, error] {
	return func(yield func(persistence.Commit, error) bool) {
		after := max(after, 0) // each range reads anew
		fail := func(err error) error { return opError("read all", err) }
		pages(e, ctx, yield, fail, underRLock(e, func(st *state, buf []persistence.Commit) ([]persistence.Commit, bool) {
			left := st.log.last() - max(after, st.log.base)
			if left <= 0 {
				return buf, true
			}
			buf = grow(buf, int(min(int64(e.pageSize), left)))
			var end bool
			buf, after, end = st.log.scan(buf, after, e.pageSize, nil)
			return buf, end
		}))
	}
}

// ReadBucket yields the bucket's commits with a checkpoint above after, in
// checkpoint order.
func (e *Engine) ReadBucket(ctx context.Context, bucketID string, after int64) iter.Seq2[persistence.Commit, error] {
	return func(yield func(persistence.Commit, error) bool) {
		if err := persistence.ValidateID("BucketID", bucketID); err != nil {
			yield(persistence.Commit{}, err)
			return
		}
		after := after // each range reads anew
		fail := func(err error) error { return opError("read bucket "+quote(bucketID), err) }
		pages(e, ctx, yield, fail, underRLock(e, func(st *state, buf []persistence.Commit) ([]persistence.Commit, bool) {
			b := st.buckets[bucketID]
			if b == nil {
				return buf, true
			}
			return e.listed(st, buf, b.cps, &after, func(*entry) bool { return true })
		}))
	}
}

// validateStream checks a bucket and stream ID.
func validateStream(bucketID, streamID string) error {
	if err := persistence.ValidateID("BucketID", bucketID); err != nil {
		return err
	}
	return persistence.ValidateID("StreamID", streamID)
}
