package mongo

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The BenchmarkRatio* benchmarks run an engine operation and its
// plain-driver twin in alternating blocks within one benchmark, so that a
// machine whose load drifts (a shared CI runner) affects both alike. They
// report both rates and engine/plain as "ratio".

const ratioRounds = 6

// ratio runs b.N engine and b.N plain units in ratioRounds alternating
// blocks (the engine first in even rounds, the plain driver first in odd
// ones). Each func runs n units and returns an error if one failed.
func ratio(b *testing.B, unit string, engine, plain func(n int) error) {
	per := max(1, b.N/ratioRounds)
	var te, tp time.Duration
	timed := func(f func(int) error, d *time.Duration) {
		t0 := time.Now()
		if err := f(per); err != nil {
			b.Fatal(err)
		}
		*d += time.Since(t0)
	}
	b.ResetTimer()
	for r := range ratioRounds {
		if r%2 == 0 {
			timed(engine, &te)
			timed(plain, &tp)
		} else {
			timed(plain, &tp)
			timed(engine, &te)
		}
	}
	b.StopTimer()
	n := float64(per * ratioRounds)
	re, rp := n/te.Seconds(), n/tp.Seconds()
	b.ReportMetric(re, "engine-"+unit+"/s")
	b.ReportMetric(rp, "plain-"+unit+"/s")
	b.ReportMetric(re/rp, "ratio")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRatioCommit: one writer; BenchmarkCommit vs BenchmarkPlainInsertOne.
func BenchmarkRatioCommit(b *testing.B) {
	ctx := context.Background()
	e, _ := openEngine(b, isolatedURL(b))
	coll := plainCollection(b)
	seq, n := 0, int64(0)
	ratio(b, "commits", func(k int) error {
		for range k {
			seq++
			if _, err := e.Commit(ctx, attempt("b", "bench", seq)); err != nil {
				return err
			}
		}
		return nil
	}, func(k int) error {
		for range k {
			n++
			d := plainDoc{Key: "k", Bucket: "b", Stream: "bench", Seq: n, Rev: n, Stamp: n, Payload: payload512}
			if _, err := coll.InsertOne(ctx, &d); err != nil {
				return err
			}
		}
		return nil
	})
}

// on16 runs k calls of op spread over 16 goroutines (writer w gets its own
// op).
func on16(k int, op func(w int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for w := range 16 {
		calls := k / 16
		if w < k%16 {
			calls++
		}
		wg.Go(func() {
			for range calls {
				if err := op(w); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkRatioCommitParallel16: 16 writers on distinct streams;
// BenchmarkCommitParallel16 vs BenchmarkPlainInsertOneParallel16.
func BenchmarkRatioCommitParallel16(b *testing.B) {
	ctx := context.Background()
	e, _ := openEngine(b, isolatedURL(b))
	coll := plainCollection(b)
	var seqs, ns [16]int64
	ratio(b, "commits", func(k int) error {
		return on16(k, func(w int) error {
			seqs[w]++
			_, err := e.Commit(ctx, attempt("b", fmt.Sprint("bench-", w), int(seqs[w])))
			return err
		})
	}, func(k int) error {
		return on16(k, func(w int) error {
			ns[w]++
			d := plainDoc{Key: "k", Bucket: "b", Stream: fmt.Sprint("bench-", w), Seq: ns[w], Rev: ns[w], Stamp: ns[w], Payload: payload512}
			_, err := coll.InsertOne(ctx, &d)
			return err
		})
	})
}

// BenchmarkRatioReadStream10k: ReadStream vs the driver's Find of the same
// 10,000 documents (one unit = one whole read of the stream).
func BenchmarkRatioReadStream10k(b *testing.B) {
	ctx := context.Background()
	e, d := seedStream(b)
	key := streamKey("b", "read")
	ratio(b, "streams", func(k int) error {
		for range k {
			n := 0
			for c, err := range e.ReadStream(ctx, "b", "read", 0, 0) {
				if err != nil {
					return err
				}
				n += c.EventCount
			}
			if n != readEvents {
				return fmt.Errorf("read %d events", n)
			}
		}
		return nil
	}, func(k int) error {
		for range k {
			cur, err := d.commits.Find(ctx, bson.D{{Key: fKey, Value: key}}, options.Find().SetSort(bson.D{{Key: fSeq, Value: 1}}))
			if err != nil {
				return err
			}
			n := 0
			for cur.Next(ctx) {
				var d commitDoc
				if err := cur.Decode(&d); err != nil {
					return err
				}
				n += int(d.Events)
			}
			cur.Close(ctx)
			if err := cur.Err(); err != nil {
				return err
			}
			if n != readEvents {
				return fmt.Errorf("read %d events", n)
			}
		}
		return nil
	})
}
