package eventstore

import (
	"context"
	"iter"
	"runtime"
	"sync"

	"github.com/goeventstore/eventstore/persistence"
)

// Reading ahead
//
// Decoding a commit's payload costs more than the engine takes to fetch
// it, so a long read (Commits, Bucket.Commits, StreamCommits) that meets
// payloads to decode stops doing one thing at a time: one goroutine pulls
// commits from the engine in batches, decode workers (one per CPU, at most
// four) decode the batches meanwhile, and the caller's loop takes them in
// order, through the select hooks, as before. At most readAhead batches
// are in flight. A short read (one batch or less), or one whose commits an
// engine hands over already decoded (the memory engine's), stays in the
// caller's goroutine. When the loop stops early, the read stops after the
// engine call in progress, and no goroutine outlives the loop. Batches are
// pooled: a poll that reads a few commits, again and again, reuses the
// same batch rather than allocating 64 commits' room each time.

const (
	readBatch = 64 // commits a decode worker takes at once
	// readAhead is how many batches are pulled and decoded ahead of the
	// caller: as many commits as a long read's grown page holds (8 times
	// persistence.DefaultPageSize). The portable layer fetches a long
	// read's next page while the puller hands out this one (see
	// persistence/pages.go); with 8 or 16 batches, BenchmarkStoreReadAll
	// on MariaDB showed no difference beyond its noise.
	readAhead = 64
)

// readBatchOf is a batch on its way: pulled, then decoded.
type readBatchOf struct {
	pcs     []persistence.Commit
	cs      []Commit
	bad     int   // index of the first commit that failed to decode, or -1
	err     error // its error
	readErr error // the engine's error after pcs, if any
	// panicked is what the engine panicked with while the batch was
	// pulled: raised again in the caller's goroutine when the loop reaches
	// the batch, as it would have been without reading ahead.
	panicked any
	done     chan struct{}
}

// pullBatch pulls up to readBatch commits into buf (a batch's slice to
// reuse, or nil); more says the read goes on.
func pullBatch(next func() (persistence.Commit, error, bool), buf []persistence.Commit) (pcs []persistence.Commit, readErr error, more bool) {
	pcs = buf[:0]
	if pcs == nil {
		pcs = make([]persistence.Commit, 0, readBatch)
	}
	for len(pcs) < readBatch {
		pc, err, ok := next()
		if !ok {
			return pcs, nil, false
		}
		if err != nil {
			return pcs, err, false
		}
		pcs = append(pcs, pc)
	}
	return pcs, nil, true
}

// decodeBatch decodes the commits of b, into b.cs if it is roomy enough
// (a batch reused).
func (s *Store) decodeBatch(b *readBatchOf) {
	if cap(b.cs) >= len(b.pcs) {
		b.cs = b.cs[:len(b.pcs)]
	} else {
		b.cs = make([]Commit, len(b.pcs))
	}
	b.bad = -1
	for i := range b.pcs {
		c, err := s.decode(&b.pcs[i], false)
		if err != nil {
			b.bad, b.err = i, err
			break
		}
		b.cs[i] = c
	}
}

// needsDecoding reports whether some commit of pcs has no decoded form of
// this store's.
func (s *Store) needsDecoding(pcs []persistence.Commit) bool {
	for i := range pcs {
		if d, ok := pcs[i].Value.(*decodedCommit); !ok || d.owner != s {
			return true
		}
	}
	return false
}

// emit yields the commits of a decoded batch through the select hooks; it
// reports whether the read goes on.
func (s *Store) emit(ctx context.Context, b *readBatchOf, yield func(Commit, error) bool) bool {
	for i := range b.cs {
		if i == b.bad {
			yield(Commit{}, b.err)
			return false
		}
		c, keep, err := s.applySelectHooks(ctx, &b.pcs[i], b.cs[i])
		if err != nil {
			yield(Commit{}, err)
			return false
		}
		if keep && !yield(c, nil) {
			return false
		}
	}
	if b.readErr != nil {
		yield(Commit{}, b.readErr)
		return false
	}
	return true
}

// readAhead yields the commits of seq, decoded and through the select
// hooks, reading ahead once the first batch shows it pays.
func (s *Store) readAhead(ctx context.Context, seq iter.Seq2[persistence.Commit, error], yield func(Commit, error) bool) {
	next, stop := iter.Pull2(seq)
	defer stop()
	first := newBatch()
	var more bool
	first.pcs, first.readErr, more = pullBatch(next, first.pcs)
	s.decodeBatch(first)
	if !s.emit(ctx, first, yield) || !more {
		first.free()
		return
	}
	if !s.needsDecoding(first.pcs) {
		for b := first; more; {
			b.reset()
			b.pcs, b.readErr, more = pullBatch(next, b.pcs)
			s.decodeBatch(b)
			if !s.emit(ctx, b, yield) {
				break
			}
		}
		first.free()
		return
	}

	work := make(chan *readBatchOf, readAhead)
	ordered := make(chan *readBatchOf, readAhead)
	// Batches the caller's loop is done with go back to the puller, which
	// fills them again; when the read ends, they go to batchPool.
	spent := make(chan *readBatchOf, readAhead+1)
	spent <- first
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the puller: the only caller of next from here on
		defer close(work)
		defer close(ordered)
		var b *readBatchOf
		defer func() {
			if r := recover(); r != nil { // in the engine's iteration
				b.panicked = r
				close(b.done)
				select {
				case ordered <- b:
				case <-quit:
				}
			}
		}()
		for more := true; more; {
			select {
			case <-quit:
				return
			default:
			}
			select {
			case b = <-spent:
				b.reset()
			default:
				b = newBatch()
			}
			b.done = make(chan struct{})
			b.pcs, b.readErr, more = pullBatch(next, b.pcs)
			select {
			case ordered <- b:
			case <-quit:
				return
			}
			work <- b // never blocks long: as roomy as ordered, and workers drain it
		}
	})
	for range min(runtime.GOMAXPROCS(0), 4) {
		wg.Go(func() {
			for b := range work {
				s.decodeBatch(b) // a serializer's panic is the commit's error (recoverTo)
				close(b.done)
			}
		})
	}
	defer func() {
		close(quit)
		wg.Wait()
		for {
			select {
			case b := <-spent:
				b.free()
			default:
				return
			}
		}
	}()
	for b := range ordered {
		<-b.done
		if b.panicked != nil {
			panic(b.panicked) // where it would have been raised without reading ahead
		}
		if !s.emit(ctx, b, yield) {
			return
		}
		select {
		case spent <- b:
		default:
		}
	}
}

// batchPool holds emptied batches for the next long read.
var batchPool sync.Pool

// newBatch returns an empty batch, from batchPool if it has one.
func newBatch() *readBatchOf {
	if b, ok := batchPool.Get().(*readBatchOf); ok {
		return b
	}
	return &readBatchOf{bad: -1}
}

// reset empties b for another use: cleared, so that it holds on to none of
// the commits it carried (the caller's loop got copies).
func (b *readBatchOf) reset() {
	clear(b.pcs)
	clear(b.cs)
	b.pcs, b.cs = b.pcs[:0], b.cs[:0]
	b.bad, b.err, b.readErr, b.panicked, b.done = -1, nil, nil, nil, nil
}

// free gives b, which no goroutine uses any more, to batchPool.
func (b *readBatchOf) free() {
	b.reset()
	batchPool.Put(b)
}
