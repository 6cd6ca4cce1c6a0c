package natsjs_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/relay/internal/relaytest"
	"github.com/goeventstore/eventstore/relay/natsjs"
)

// BenchmarkThroughput compares, in one run, the relay publishing b.N
// one-event commits already stored with the plain client publishing the
// same messages (same IDs, headers, bodies) asynchronously and waiting for
// every acknowledgement: the ratio of their msgs/s is the relay's cost.
func BenchmarkThroughput(b *testing.B) {
	br := newBroker(b)
	_, js := br.connect()
	for _, storage := range []jetstream.StorageType{jetstream.FileStorage, jetstream.MemoryStorage} {
		for _, pageSize := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s/plain/window=%d", storage, pageSize), func(b *testing.B) {
				br.freshStream(js, storage)
				msgs := encoded(b, b.N)
				b.ResetTimer()
				for i := 0; i < len(msgs); i += pageSize {
					var fs []jetstream.PubAckFuture
					for _, m := range msgs[i:min(i+pageSize, len(msgs))] {
						nm := nats.NewMsg(m.Topic)
						nm.Data = m.Body
						for k, v := range m.Headers {
							nm.Header.Set(k, v)
						}
						f, err := js.PublishMsgAsync(nm, jetstream.WithMsgID(m.ID))
						if err != nil {
							b.Fatal(err)
						}
						fs = append(fs, f)
					}
					for _, f := range fs {
						select {
						case <-f.Ok():
						case err := <-f.Err():
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			})
			b.Run(fmt.Sprintf("%s/relay/page=%d", storage, pageSize), func(b *testing.B) {
				name := br.freshStream(js, storage)
				s := relaytest.Store(b)
				cs := make([]*eventstore.Commit, b.N)
				for i := range b.N {
					cs[i] = relaytest.Commit(b, s, "a", fmt.Sprint("s", i%100), relaytest.OrderPlaced{Order: fmt.Sprint(i), Total: i})
				}
				o := relaytest.Fast()
				o.Read.PageSize = pageSize
				r, err := relay.New(s, natsjs.New(js, name, natsjs.Options{}), o)
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
	}
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

// BenchmarkLatency measures the time from Append returning to the broker's
// acknowledgement reaching the relay, one commit at a time, with the relay
// woken by the local commit and with it polling (every 10 ms).
func BenchmarkLatency(b *testing.B) {
	br := newBroker(b)
	_, js := br.connect()
	for _, mode := range []string{"woken", "polling"} {
		b.Run(mode, func(b *testing.B) {
			name := br.freshStream(js, jetstream.FileStorage)
			s := relaytest.Store(b)
			acked := make(chan int64, 1024)
			inner := natsjs.New(js, name, natsjs.Options{})
			pub := &timed{Resumer: inner, acked: acked}
			o := relaytest.Fast()
			o.Read.Poll, o.Read.NoWake = time.Hour, false
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
				c := relaytest.Commit(b, s, "a", "s", relaytest.OrderPlaced{Order: fmt.Sprint(i)})
				for cp := range acked {
					if cp >= c.Checkpoint {
						break
					}
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
	}
}

// timed reports the checkpoint of the last message of each acknowledged
// Publish call.
type timed struct {
	relay.Resumer
	acked chan int64
}

func (p *timed) Publish(ctx context.Context, msgs []relay.Message) (int, error) {
	n, err := p.Resumer.Publish(ctx, msgs)
	if n > 0 {
		p.acked <- msgs[n-1].Checkpoint
	}
	return n, err
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(0, "ns/op")
}
