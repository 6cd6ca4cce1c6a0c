package kafka_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/relay/internal/relaytest"
	"github.com/goeventstore/eventstore/relay/kafka"
)

// BenchmarkThroughput compares, in one run, the relay publishing b.N
// one-event commits already stored with the plain client producing the
// same records (idempotent, acks from all in-sync replicas) in windows of
// the relay's page size and waiting for every acknowledgement.
func BenchmarkThroughput(b *testing.B) {
	const page = 1000
	b.Run("plain", func(b *testing.B) {
		c := cluster(b)
		cl := client(b, c)
		msgs := encoded(b, b.N)
		b.ResetTimer()
		for i := 0; i < len(msgs); i += page {
			var wg sync.WaitGroup
			var ferr error
			var mu sync.Mutex
			for j := i; j < min(i+page, len(msgs)); j++ {
				wg.Add(1)
				cl.Produce(context.Background(), kafka.Record(&msgs[j]), func(_ *kgo.Record, err error) {
					if err != nil {
						mu.Lock()
						ferr = err
						mu.Unlock()
					}
					wg.Done()
				})
			}
			wg.Wait()
			if ferr != nil {
				b.Fatal(ferr)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("relay", func(b *testing.B) {
		c := cluster(b)
		s := relaytest.Store(b)
		cs := make([]*eventstore.Commit, b.N)
		for i := range b.N {
			cs[i] = relaytest.Commit(b, s, "a", fmt.Sprint("s", i%100), relaytest.OrderPlaced{Order: fmt.Sprint(i), Total: i})
		}
		o := relaytest.Fast()
		o.Read.PageSize = page
		o.Checkpoints = &relay.File{Path: b.TempDir() + "/cp"}
		r, err := relay.New(s, kafka.New(client(b, c)), o)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		stop := relaytest.Run(b, r)
		for r.Position() < cs[b.N-1].Checkpoint {
			time.Sleep(50 * time.Microsecond)
		}
		b.StopTimer()
		stop()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// encoded returns n messages as the relay would publish them.
func encoded(b *testing.B, n int) []relay.Message {
	msgs := make([]relay.Message, n)
	for i := range n {
		c := &eventstore.Commit{CommitAttempt: eventstore.CommitAttempt{
			BucketID: "a", StreamID: fmt.Sprint("s", i%100), StreamRevision: i/100 + 1, CommitSequence: i/100 + 1,
			CommitID: eventstore.NewCommitID(), CommitStamp: time.Now().UTC(),
			Events: []eventstore.EventMessage{{Body: relaytest.OrderPlaced{Order: fmt.Sprint(i), Total: i}, Headers: map[string]any{"user": "ann"}}},
		}, Checkpoint: int64(i + 1)}
		m, err := relay.Encode(c, &relay.Options{})
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = m
	}
	return msgs
}

// BenchmarkLatency measures the time from Append returning to the
// broker's acknowledgement reaching the relay, one commit at a time, with
// the relay woken by the local commit and with it polling every 10 ms.
func BenchmarkLatency(b *testing.B) {
	for _, mode := range []string{"woken", "polling"} {
		b.Run(mode, func(b *testing.B) {
			c := cluster(b)
			s := relaytest.Store(b)
			acked := make(chan int64, 1024)
			inner := kafka.New(client(b, c))
			pub := relay.PublishFunc(func(ctx context.Context, msgs []relay.Message) (int, error) {
				n, err := inner.Publish(ctx, msgs)
				if n > 0 {
					acked <- msgs[n-1].Checkpoint
				}
				return n, err
			})
			o := relaytest.Fast()
			o.Checkpoints = &relay.File{Path: b.TempDir() + "/cp"}
			o.Read.Poll = time.Hour
			if mode == "polling" {
				o.Read.Poll, o.Read.NoWake = 10*time.Millisecond, true
			}
			r, err := relay.New(s, pub, o)
			if err != nil {
				b.Fatal(err)
			}
			relaytest.Run(b, r)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				cm := relaytest.Commit(b, s, "a", "s", relaytest.OrderPlaced{Order: fmt.Sprint(i)})
				for cp := range acked {
					if cp >= cm.Checkpoint {
						break
					}
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(0, "ns/op")
		})
	}
}
