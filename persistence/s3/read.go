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
	want := func(cp int64, r *record) bool {
		return cp > q.After && (q.BucketID == "" || r.Bucket == q.BucketID)
	}
	err := e.scan(ctx, n0, int32(min(1000, q.Limit+1)), func(ns []int64) (bool, error) {
		return e.decided(ctx, ns, want, func(cp int64, r *record, committed bool) bool {
			if committed {
				out = append(out, r.commit(cp))
			}
			return len(out) == q.Limit
		}, nil)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decided reads the slots ns (several at once: one, then twice as many
// each round, up to fanOut) and decides, all at once, the intents of each
// round that want selects; then it calls visit with each, in checkpoint
// order, and whether it is committed, until visit reports stop. gone, if
// not nil, is called for a slot that does not exist (removed by a Drop).
// Reading a round ahead of visit costs at most a round's slots more than
// a reader that stops needs; starting with one slot keeps short reads
// short.
func (e *engine) decided(ctx context.Context, ns []int64, want func(cp int64, r *record) bool,
	visit func(cp int64, r *record, committed bool) (stop bool), gone func()) (bool, error) {
	type intent struct {
		cp        int64
		r         *record
		committed bool
	}
	for round := 1; len(ns) > 0; round = min(2*round, fanOut) {
		chunk := ns[:min(len(ns), round)]
		ns = ns[len(chunk):]
		slots := make([]slot, len(chunk))
		found := make([]bool, len(chunk))
		err := each(ctx, len(chunk), func(ctx context.Context, j int) error {
			var err error
			slots[j], found[j], err = e.readSlot(ctx, chunk[j])
			return err
		})
		if err != nil {
			return false, err
		}
		var its []intent
		for j, n := range chunk {
			if !found[j] {
				if gone != nil {
					gone()
				}
				continue
			}
			for i := range slots[j].Intents {
				r := &slots[j].Intents[i]
				if cp := checkpointOf(n, i); want(cp, r) {
					its = append(its, intent{cp: cp, r: r})
				}
			}
		}
		err = each(ctx, len(its), func(ctx context.Context, k int) error {
			var err error
			its[k].committed, err = e.decide(ctx, its[k].r, its[k].cp, false)
			return err
		})
		if err != nil {
			return false, err
		}
		for _, it := range its {
			if visit(it.cp, it.r, it.committed) {
				return true, nil
			}
		}
	}
	return false, nil
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
