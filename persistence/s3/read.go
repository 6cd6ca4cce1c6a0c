package s3

import (
	"context"
	"sync"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// fanOut is how many requests one read runs at once.
const fanOut = 32

// each calls f(i) for i in [0, n) on up to fanOut goroutines and returns
// the first error.
func each(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	if n == 1 {
		return f(ctx, 0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan int)
	)
	for range min(n, fanOut) {
		wg.Go(func() {
			for i := range next {
				if err := f(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			i = n
		}
	}
	close(next)
	wg.Wait()
	return first
}

// ReadStream lists the stream's claims from q.AfterSequence on and reads
// them (a claim holds the whole commit), many at once.
func (e *engine) ReadStream(ctx context.Context, q driver.StreamQuery) ([]driver.Commit, error) {
	out := q.Buf[:0]
	prefix := e.k.claims(q.BucketID, q.StreamID)
	start := ""
	if q.AfterSequence > 0 {
		start = e.k.claim(q.BucketID, q.StreamID, q.AfterSequence)
	}
	for {
		want := int32(min(1000, max(q.Limit-len(out), 8)))
		keys, more, err := e.o.list(ctx, prefix, start, want)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return out, nil
		}
		recs := make([]record, len(keys))
		err = each(ctx, len(keys), func(ctx context.Context, i int) error {
			body, _, found, err := e.o.get(ctx, keys[i])
			if err != nil || !found {
				return err
			}
			return decode("claim", keys[i], body, &recs[i])
		})
		if err != nil {
			return nil, err
		}
		for i := range recs {
			r := &recs[i]
			if r.Seq == 0 || r.Dead || r.Rev < q.MinRevision {
				continue
			}
			if r.Rev-r.Events+1 > q.MaxRevision {
				return out, nil
			}
			out = append(out, r.commit(r.CP))
			if len(out) == q.Limit {
				return out, nil
			}
		}
		if !more {
			return out, nil
		}
		start = keys[len(keys)-1]
	}
}

// readSlot returns log slot n, or found false.
func (e *engine) readSlot(ctx context.Context, n int64) (slot, bool, error) {
	key := e.k.log(n)
	body, _, found, err := e.o.get(ctx, key)
	if err != nil || !found {
		return slot{}, false, err
	}
	var s slot
	return s, true, decode("log slot", key, body, &s)
}

// ReadCommits lists the log from q.After's slot on and decides each intent
// of the bucket (if one is asked for): one HEAD of its claim, or the
// roll-forward of an undecided one. Every slot below the ones it reads
// exists (scan settles holes) and every intent is decided before it is
// returned, so nothing can become visible below a checkpoint returned.
func (e *engine) ReadCommits(ctx context.Context, q driver.CommitQuery) ([]driver.Commit, error) {
	out := q.Buf[:0]
	n0, _ := slotOf(q.After)
	err := e.scan(ctx, n0, int32(min(1000, q.Limit+1)), func(n int64) (bool, error) {
		var (
			done bool
			err  error
		)
		out, done, err = e.readDecided(ctx, n, q, out)
		return done, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readDecided appends the committed intents of slot n above q.After to
// out, up to q.Limit in all, and reports whether the page is full.
func (e *engine) readDecided(ctx context.Context, n int64, q driver.CommitQuery, out []driver.Commit) ([]driver.Commit, bool, error) {
	s, found, err := e.readSlot(ctx, n)
	if err != nil || !found {
		return out, false, err
	}
	var idx []int
	for i := range s.Intents {
		r := &s.Intents[i]
		if checkpointOf(n, i) <= q.After || (q.BucketID != "" && r.Bucket != q.BucketID) {
			continue
		}
		idx = append(idx, i)
	}
	ok := make([]bool, len(idx))
	err = each(ctx, len(idx), func(ctx context.Context, j int) error {
		i := idx[j]
		var err error
		ok[j], err = e.decide(ctx, &s.Intents[i], checkpointOf(n, i), false)
		return err
	})
	if err != nil {
		return out, false, err
	}
	for j, i := range idx {
		if !ok[j] {
			continue
		}
		out = append(out, s.Intents[i].commit(checkpointOf(n, i)))
		if len(out) == q.Limit {
			return out, true, nil
		}
	}
	return out, false, nil
}

// Head settles the log's holes up to its tail (from the first slot not
// known to exist: one LIST, as a rule), then walks the log back from the
// tail to the last committed intent: one GET per slot and one HEAD per
// intent walked past (deleted and refused commits). Settling first means
// that no commit can land below the checkpoint it returns.
func (e *engine) Head(ctx context.Context) (int64, error) {
	t, err := e.closeLog(ctx)
	if err != nil {
		return 0, err
	}
	for n := t; n > 0; n-- {
		s, found, err := e.readSlot(ctx, n)
		if err != nil {
			return 0, err
		}
		if !found {
			continue
		}
		for i := len(s.Intents) - 1; i >= 0; i-- {
			ok, err := e.decide(ctx, &s.Intents[i], checkpointOf(n, i), false)
			if err != nil {
				return 0, err
			}
			if ok {
				return checkpointOf(n, i), nil
			}
		}
	}
	return 0, nil
}
