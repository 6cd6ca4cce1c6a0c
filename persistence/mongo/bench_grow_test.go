package mongo

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// BenchmarkScale grows a store through sizes and measures how each cost
// grows (acceptance.Scale), against plain InsertOnes into a collection
// grown alike (BenchmarkShared's plainDoc). Bytes per commit are the
// database's dataSize plus indexSize (dbStats) without the plain
// collection. It runs on each server of the package's tests, as
// BenchmarkScale/Mongo and BenchmarkScale/FerretPG. On FerretDB, on either
// backend, every query is a scan (see the package doc), so its reads grow
// with the store: run it on MongoDB to see the engine's own costs. Run it
// with
//
//	EVENTSTORE_SCALE_SIZES=10000,100000 go test -run '^$' -bench BenchmarkScale/FerretPG -benchtime 1x -timeout 4h ./persistence/mongo
func BenchmarkScale(b *testing.B) {
	for _, s := range servers {
		b.Run(s.name, benchScale)
	}
}

func benchScale(b *testing.B) {
	var d *engine
	acceptance.Scale(b, acceptance.ScaleHarness{
		New: newBenchEngine(&d),
		Baseline: func(ctx context.Context, b *testing.B, e *persistence.Engine) (*acceptance.Baseline, error) {
			return &acceptance.Baseline{Insert: plainInsert(d)}, nil
		},
		Bytes: func(ctx context.Context, e *persistence.Engine) (int64, error) {
			var total int64
			for _, coll := range []string{d.commits.Name(), d.snapshots.Name()} {
				var st struct {
					Size           float64 `bson:"size"`
					TotalIndexSize float64 `bson:"totalIndexSize"`
				}
				if err := d.commits.Database().RunCommand(ctx, bson.D{{Key: "collStats", Value: coll}}).Decode(&st); err != nil {
					return 0, err
				}
				total += int64(st.Size + st.TotalIndexSize)
			}
			return total, nil
		},
	})
}
