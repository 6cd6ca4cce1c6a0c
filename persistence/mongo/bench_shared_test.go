package mongo

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// BenchmarkShared runs the shared paired benchmarks (acceptance.Bench:
// Commit, Commit16, ReadStream, each alternating with its baseline in one
// run and reporting the ratio) against the plain driver:
//
//	Commit, Commit16  one InsertOne of a plainDoc holding the same payload
//	                  into a collection of its own ("plain", no secondary
//	                  index, the driver's ObjectID as _id)
//	ReadStream        the driver's Find of the stream's commit documents,
//	                  with the engine's filter and order, decoded into the
//	                  same struct
//
// Run it with
//
//	go test -run '^$' -bench BenchmarkShared -benchtime 3s -count 3 ./persistence/mongo
func BenchmarkShared(b *testing.B) {
	var d *engine // the driver of the engine New made
	acceptance.Bench(b, acceptance.BenchHarness{
		New: newBenchEngine(&d),
		Baseline: func(ctx context.Context, b *testing.B, e *persistence.Engine) (*acceptance.Baseline, error) {
			return &acceptance.Baseline{
				Insert: plainInsert(d),
				Read: func(ctx context.Context, bucketID, streamID string) (int, error) {
					cur, err := d.commits.Find(ctx, bson.D{{Key: fKey, Value: streamKey(bucketID, streamID)}},
						options.Find().SetSort(bson.D{{Key: fSeq, Value: 1}}))
					if err != nil {
						return 0, err
					}
					defer cur.Close(ctx)
					n := 0
					for cur.Next(ctx) {
						var c commitDoc
						if err := cur.Decode(&c); err != nil {
							return 0, err
						}
						n += int(c.Events)
					}
					return n, cur.Err()
				},
				// Seed stores the commit documents Commit would, in one
				// InsertMany, on checkpoints above every one taken (the
				// engine's hint catches up should it commit again).
				Seed: func(ctx context.Context, bucketID, streamID string, n int, payload []byte) error {
					head, err := d.maxCheckpoint(ctx)
					if err != nil {
						return err
					}
					docs := make([]any, n)
					for i := range n {
						a := attempt(bucketID, streamID, i+1)
						a.Payload = payload
						doc := newCommitDoc(a, true)
						doc.ID = head + int64(i+1)
						docs[i] = doc
					}
					_, err = d.commits.InsertMany(ctx, docs)
					return err
				},
			}, nil
		},
	})
}

// newBenchEngine is a BenchHarness.New (or ScaleHarness.New) opening an
// engine on a fresh database; it leaves the engine's driver in *d.
func newBenchEngine(d **engine) func(ctx context.Context, b *testing.B, opts ...persistence.Option) (*persistence.Engine, error) {
	return func(ctx context.Context, b *testing.B, opts ...persistence.Option) (*persistence.Engine, error) {
		drv, s, err := open(isolatedURL(b), opts...)
		if err != nil {
			return nil, err
		}
		*d = drv
		return persistence.NewEngineWithSettings("mongodb", drv, s), nil
	}
}

// plainInsert is the baseline's Insert: one InsertOne of a plainDoc
// holding the payload into the collection "plain" of d's database.
func plainInsert(d *engine) func(ctx context.Context, stream string, seq int, payload []byte) error {
	plain := d.commits.Database().Collection("plain")
	return func(ctx context.Context, stream string, seq int, payload []byte) error {
		n := int64(seq)
		doc := plainDoc{Key: streamKey("bench", stream), Bucket: "bench", Stream: stream, Seq: n, Rev: n,
			Stamp: time.Now().UnixMicro(), Payload: payload}
		_, err := plain.InsertOne(ctx, &doc)
		return err
	}
}
