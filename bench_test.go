package eventstore_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// benchEvent serializes to about 200 bytes of JSON.
type benchEvent struct {
	OrderID    string    `json:"orderId"`
	CustomerID string    `json:"customerId"`
	Amount     float64   `json:"amount"`
	Currency   string    `json:"currency"`
	Items      []string  `json:"items"`
	PlacedAt   time.Time `json:"placedAt"`
	Note       string    `json:"note"`
}

func newBenchEvent(i int) benchEvent {
	return benchEvent{
		OrderID:    "order-" + strconv.Itoa(i),
		CustomerID: "customer-42",
		Amount:     129.95,
		Currency:   "EUR",
		Items:      []string{"sku-1001", "sku-2002", "sku-3003"},
		PlacedAt:   time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
		Note:       "leave the parcel with the neighbour",
	}
}

func TestBenchEventSize(t *testing.T) {
	b, _ := json.Marshal(newBenchEvent(123456))
	if len(b) < 180 || len(b) > 230 {
		t.Fatalf("bench event is %d bytes of JSON, want about 200", len(b))
	}
}

func benchStore(b *testing.B, build func(*eventstore.Builder) *eventstore.Builder) *eventstore.Store {
	w := eventstore.Wireup().RegisterType("BenchEvent", benchEvent{})
	if build != nil {
		w = build(w)
	}
	s, err := w.Build(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// commitLoop commits one event per commit to one stream, b.N times.
func commitLoop(b *testing.B, s *eventstore.Store) {
	ctx := context.Background()
	st, err := s.CreateStream("bench-stream")
	if err != nil {
		b.Fatal(err)
	}
	ev := newBenchEvent(1)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st.Add(eventstore.EventMessage{Body: ev})
		if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkCommit: one goroutine, one ~200-byte JSON event per commit,
// in-memory engine, no dispatch.
func BenchmarkCommit(b *testing.B) {
	commitLoop(b, benchStore(b, nil))
}

// BenchmarkCommitSyncDispatch is BenchmarkCommit with synchronous dispatch
// to a dispatcher that only counts.
func BenchmarkCommitSyncDispatch(b *testing.B) {
	var n atomic.Int64
	commitLoop(b, benchStore(b, func(w *eventstore.Builder) *eventstore.Builder {
		return w.UsingSyncDispatch().DispatchTo(func(context.Context, eventstore.Commit) error { n.Add(1); return nil })
	}))
}

// BenchmarkCommitAsyncDispatch is BenchmarkCommit with asynchronous
// dispatch to a dispatcher that only counts; the time includes draining the
// queue at the end.
func BenchmarkCommitAsyncDispatch(b *testing.B) {
	var n atomic.Int64
	s := benchStore(b, func(w *eventstore.Builder) *eventstore.Builder {
		return w.UsingAsyncDispatch().DispatchTo(func(context.Context, eventstore.Commit) error { n.Add(1); return nil })
	})
	commitLoop(b, s)
	if err := s.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	if n.Load() != int64(b.N) {
		b.Fatalf("dispatched %d of %d commits", n.Load(), b.N)
	}
}

// BenchmarkCommitParallel: writers on distinct streams, one per goroutine.
func BenchmarkCommitParallel(b *testing.B) {
	s := benchStore(b, nil)
	ctx := context.Background()
	var id atomic.Int64
	ev := newBenchEvent(1)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		st, err := s.CreateStream("bench-" + strconv.FormatInt(id.Add(1), 10))
		if err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			st.Add(eventstore.EventMessage{Body: ev})
			if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkEngineCommit is the same work straight on the memory engine,
// with a payload prepared once: the floor the store adds to.
func BenchmarkEngineCommit(b *testing.B) {
	ctx := context.Background()
	e := memory.New()
	if err := e.Initialize(ctx); err != nil {
		b.Fatal(err)
	}
	payload, _ := json.Marshal(newBenchEvent(1))
	seq := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		seq++
		_, err := e.Commit(ctx, &persistence.CommitAttempt{
			BucketID: "default", StreamID: "bench-stream", StreamRevision: seq, CommitID: persistence.NewUUID(),
			CommitSequence: seq, CommitStamp: time.Now().UTC(), EventCount: 1, Payload: payload,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkReadStream opens a 10,000-event stream (one event per commit)
// through the store.
func BenchmarkReadStream(b *testing.B) {
	const events = 10000
	s := benchStore(b, nil)
	ctx := context.Background()
	st, _ := s.CreateStream("read-stream")
	for i := range events {
		st.Add(eventstore.EventMessage{Body: newBenchEvent(i)})
		if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st, err := s.OpenStream(ctx, "read-stream", 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(st.CommittedEvents()); n != events {
			b.Fatalf("read %d events", n)
		}
	}
	b.ReportMetric(float64(b.N)*events/b.Elapsed().Seconds(), "events/s")
}
