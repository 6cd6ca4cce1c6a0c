package mongo

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/persistence"
)

// Each engine benchmark has a plain-driver twin, run against the same server
// in the same run; compare their per-second metrics:
//
//	go test -run '^$' -bench . -benchtime 3s ./persistence/mongo
//
//	BenchmarkCommit            vs BenchmarkPlainInsertOne            (one writer)
//	BenchmarkCommitParallel16  vs BenchmarkPlainInsertOneParallel16  (16 writers)
//	BenchmarkReadStream10k     vs BenchmarkPlainFind10k

// plainDoc is what the plain-driver insert benchmarks store: the fields of a
// commit, the driver's ObjectID as _id and no secondary index.
type plainDoc struct {
	ID      bson.ObjectID `bson:"_id,omitempty"`
	Key     string        `bson:"key"`
	Bucket  string        `bson:"bucket"`
	Stream  string        `bson:"stream"`
	Seq     int64         `bson:"seq"`
	Rev     int64         `bson:"rev"`
	Stamp   int64         `bson:"stamp"`
	Payload []byte        `bson:"payload"`
}

// plainCollection returns a collection of its own on a fresh database.
func plainCollection(b *testing.B) *mongo.Collection {
	b.Helper()
	_, d := openEngine(b, isolatedURL(b))
	return d.commits.Database().Collection("plain")
}

func perSecond(b *testing.B, n int64, unit string) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), unit)
}

// BenchmarkCommit: one writer, one 512-byte event per commit.
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	e, _ := openEngine(b, isolatedURL(b))
	seq := 0
	for b.Loop() {
		seq++
		if _, err := e.Commit(ctx, attempt("b", "bench", seq)); err != nil {
			b.Fatal(err)
		}
	}
	perSecond(b, int64(seq), "commits/s")
}

// BenchmarkPlainInsertOne: the driver alone, one InsertOne per call.
func BenchmarkPlainInsertOne(b *testing.B) {
	ctx := context.Background()
	coll := plainCollection(b)
	var n int64
	for b.Loop() {
		n++
		d := plainDoc{Key: "k", Bucket: "b", Stream: "bench", Seq: n, Rev: n, Stamp: n, Payload: payload512}
		if _, err := coll.InsertOne(ctx, &d); err != nil {
			b.Fatal(err)
		}
	}
	perSecond(b, n, "commits/s")
}

// parallel16 runs body on 16 goroutines, writers 1 to 16, which share b.N
// calls: next reports whether the writer should make one more.
func parallel16(b *testing.B, body func(w int, next func() bool) error) {
	var left atomic.Int64
	left.Store(int64(b.N))
	next := func() bool { return left.Add(-1) >= 0 }
	errs := make(chan error, 16)
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := 1; w <= 16; w++ {
		wg.Go(func() { errs <- body(w, next) })
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	perSecond(b, int64(b.N), "commits/s")
}

// BenchmarkCommitParallel16: 16 writers on distinct streams.
func BenchmarkCommitParallel16(b *testing.B) {
	ctx := context.Background()
	e, _ := openEngine(b, isolatedURL(b))
	parallel16(b, func(w int, next func() bool) error {
		stream := fmt.Sprint("bench-", w)
		for seq := 1; next(); seq++ {
			if _, err := e.Commit(ctx, attempt("b", stream, seq)); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkPlainInsertOneParallel16: 16 concurrent InsertOne callers.
func BenchmarkPlainInsertOneParallel16(b *testing.B) {
	ctx := context.Background()
	coll := plainCollection(b)
	parallel16(b, func(w int, next func() bool) error {
		stream := fmt.Sprint("bench-", w)
		for n := int64(1); next(); n++ {
			d := plainDoc{Key: "k", Bucket: "b", Stream: stream, Seq: n, Rev: n, Stamp: n, Payload: payload512}
			if _, err := coll.InsertOne(ctx, &d); err != nil {
				return err
			}
		}
		return nil
	})
}

const readEvents = 10_000

// seedStream stores a stream of readEvents one-event commits, in one bulk
// insert, and returns the engine and its driver.
func seedStream(b *testing.B) (*persistence.Engine, *engine) {
	b.Helper()
	ctx := context.Background()
	e, d := openEngine(b, isolatedURL(b))
	docs := make([]any, readEvents)
	for i := range readEvents {
		doc := newCommitDoc(attempt("b", "read", i+1), true)
		doc.ID = int64(i + 1)
		docs[i] = doc
	}
	if _, err := d.commits.InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	return e, d
}

// BenchmarkReadStream10k: ReadStream of a 10,000-event stream.
func BenchmarkReadStream10k(b *testing.B) {
	ctx := context.Background()
	e, _ := seedStream(b)
	var events int64
	for b.Loop() {
		n := 0
		for c, err := range e.ReadStream(ctx, "b", "read", 0, 0) {
			if err != nil {
				b.Fatal(err)
			}
			n += c.EventCount
		}
		if n != readEvents {
			b.Fatalf("read %d events", n)
		}
		events += int64(n)
	}
	perSecond(b, events, "events/s")
}

// BenchmarkPlainFind10k: the driver alone reading the same documents with
// the same filter and order, decoded into the same struct.
func BenchmarkPlainFind10k(b *testing.B) {
	ctx := context.Background()
	_, d := seedStream(b)
	key := streamKey("b", "read")
	var events int64
	for b.Loop() {
		cur, err := d.commits.Find(ctx, bson.D{{Key: fKey, Value: key}}, options.Find().SetSort(bson.D{{Key: fSeq, Value: 1}}))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for cur.Next(ctx) {
			var d commitDoc
			if err := cur.Decode(&d); err != nil {
				b.Fatal(err)
			}
			n += int(d.Events)
		}
		if err := cur.Err(); err != nil {
			b.Fatal(err)
		}
		cur.Close(ctx)
		if n != readEvents {
			b.Fatalf("read %d events", n)
		}
		events += int64(n)
	}
	perSecond(b, events, "events/s")
}
