package acceptance_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// BenchmarkMemory runs the shared benchmarks on the memory engine, against
// a baseline of a map of byte slices under a mutex: the least a store of
// commits in memory can do. It exercises acceptance.Bench.
func BenchmarkMemory(b *testing.B) {
	acceptance.Bench(b, acceptance.BenchHarness{
		New: func(ctx context.Context, b *testing.B, opts ...persistence.Option) (*persistence.Engine, error) {
			return memory.New(opts...), nil
		},
		Baseline:   mapBaseline,
		ReadEvents: 1000,
	})
}

// mapBaseline keeps rows in a map; Seed commits through the engine and
// keeps the same rows, which Read reads.
func mapBaseline(ctx context.Context, b *testing.B, e *persistence.Engine) (*acceptance.Baseline, error) {
	var mu sync.Mutex
	rows := map[string][][]byte{}
	return &acceptance.Baseline{
		Insert: func(ctx context.Context, stream string, seq int, payload []byte) error {
			row := slices.Clone(payload)
			mu.Lock()
			rows[stream] = append(rows[stream], row)
			mu.Unlock()
			return nil
		},
		Read: func(ctx context.Context, bucketID, streamID string) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, r := range rows[bucketID+"/"+streamID] {
				if len(r) > 0 {
					n++
				}
			}
			return n, nil
		},
		Seed: func(ctx context.Context, bucketID, streamID string, n int, payload []byte) error {
			for seq := 1; seq <= n; seq++ {
				a := &persistence.CommitAttempt{BucketID: bucketID, StreamID: streamID, StreamRevision: seq, CommitID: persistence.NewUUID(),
					CommitSequence: seq, CommitStamp: time.Now().UTC(), EventCount: 1, Payload: payload}
				if _, err := e.Commit(ctx, a); err != nil {
					return err
				}
				mu.Lock()
				rows[bucketID+"/"+streamID] = append(rows[bucketID+"/"+streamID], slices.Clone(payload))
				mu.Unlock()
			}
			return nil
		},
	}, nil
}

// BenchmarkScaleMemory runs the scale figures on the memory engine (no
// baseline: it has no driver).
func BenchmarkScaleMemory(b *testing.B) {
	acceptance.Scale(b, acceptance.ScaleHarness{
		New: func(ctx context.Context, b *testing.B, opts ...persistence.Option) (*persistence.Engine, error) {
			return memory.New(opts...), nil
		},
	})
}
