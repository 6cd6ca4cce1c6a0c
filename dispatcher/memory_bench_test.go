package dispatcher_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/dispatcher"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// BenchmarkMemoryCommit measures commits per second of the in-memory engine
// alone ("engine"), with each stored commit scheduled on an Async
// scheduler with a no-op dispatcher ("engine+async"), and with the engine's
// MarkDispatched as well ("engine+async+mark"), from GOMAXPROCS writers, in
// one run: the ratios are the cost of asynchronous dispatch.
func BenchmarkMemoryCommit(b *testing.B) {
	for _, variant := range []string{"engine", "engine+async", "engine+async+mark"} {
		b.Run(variant, func(b *testing.B) {
			ctx := context.Background()
			e := memory.New()
			if err := e.Initialize(ctx); err != nil {
				b.Fatal(err)
			}
			var s *dispatcher.Async[persistence.Commit]
			if variant != "engine" {
				opts := dispatcher.Options[persistence.Commit]{
					Key: func(c persistence.Commit) string { return c.StreamID },
				}
				if variant == "engine+async+mark" {
					opts.MarkDispatched = e.MarkDispatched
				}
				s = dispatcher.NewAsync(dispatcher.Nop[persistence.Commit]{}, opts)
			}
			var writers atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				me := "writer-" + strconv.FormatInt(writers.Add(1), 10)
				a := &persistence.CommitAttempt{
					BucketID: persistence.DefaultBucket, EventCount: 1,
					CommitStamp: time.Unix(1700000000, 0).UTC(), Payload: make([]byte, 512),
				}
				for n := 0; pb.Next(); n++ {
					a.StreamID = me + "-" + strconv.Itoa(n/100)
					a.CommitSequence = n%100 + 1
					a.StreamRevision = a.CommitSequence
					a.CommitID = persistence.NewUUID()
					c, err := e.Commit(ctx, a)
					if err != nil {
						b.Error(err)
						return
					}
					if s != nil {
						if err := s.Schedule(ctx, c); err != nil {
							b.Error(err)
							return
						}
					}
				}
			})
			if s != nil {
				if err := s.Close(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}
