package eventstore_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/internal/cputime"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// The benchmarks of the root package: the in-memory engine through the
// store. Run them with
//
//	go test -run '^$' -bench . -benchmem -count 5 .
//
// Next to the wall-clock rates, each reports the same rate per CPU-second
// of the whole process (GC and dispatch workers included), which a busy
// machine disturbs less.

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

// streamLength is how many commits the benchmarks write to a stream before
// moving on to a new one, as an application does with its aggregates. (One
// stream of millions of commits would measure slice growth instead.)
const streamLength = 1000

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

// commitLoop commits one event per commit, b.N times, to streams of
// streamLength commits, then runs end (inside the timing).
func commitLoop(b *testing.B, s *eventstore.Store, end func()) {
	ctx := context.Background()
	var st *eventstore.Stream
	ev := newBenchEvent(1)
	n := 0
	r := cputime.Start(b)
	for b.Loop() {
		if n%streamLength == 0 {
			var err error
			if st, err = s.CreateStream("bench-" + strconv.Itoa(n/streamLength)); err != nil {
				b.Fatal(err)
			}
		}
		n++
		st.Add(eventstore.EventMessage{Body: ev})
		if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
			b.Fatal(err)
		}
	}
	if end != nil {
		end()
	}
	b.StopTimer()
	r.Report(b, "commits", 1)
}

// BenchmarkCommit: one goroutine, one ~200-byte JSON event per commit,
// in-memory engine, no dispatch.
func BenchmarkCommit(b *testing.B) {
	commitLoop(b, benchStore(b, nil), nil)
}

// BenchmarkCommitSyncDispatch is BenchmarkCommit with synchronous dispatch
// to a dispatcher that only counts.
func BenchmarkCommitSyncDispatch(b *testing.B) {
	var n atomic.Int64
	commitLoop(b, benchStore(b, func(w *eventstore.Builder) *eventstore.Builder {
		return w.UsingSyncDispatch().DispatchTo(func(context.Context, eventstore.Commit) error { n.Add(1); return nil })
	}), nil)
}

// BenchmarkCommitAsyncDispatch is BenchmarkCommit with asynchronous
// dispatch to a dispatcher that only counts. The timing includes Close,
// which drains the queue: every commit has been dispatched and marked.
func BenchmarkCommitAsyncDispatch(b *testing.B) {
	var n atomic.Int64
	s := benchStore(b, func(w *eventstore.Builder) *eventstore.Builder {
		return w.UsingAsyncDispatch().DispatchTo(func(context.Context, eventstore.Commit) error { n.Add(1); return nil })
	})
	commitLoop(b, s, func() {
		if err := s.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
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
	r := cputime.Start(b)
	b.RunParallel(func(pb *testing.PB) {
		var st *eventstore.Stream
		for n := 0; pb.Next(); n++ {
			if n%streamLength == 0 {
				var err error
				if st, err = s.CreateStream("bench-" + strconv.FormatInt(id.Add(1), 10)); err != nil {
					b.Error(err)
					return
				}
			}
			st.Add(eventstore.EventMessage{Body: ev})
			if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	r.Report(b, "commits", 1)
}

// BenchmarkEngineCommit is the same work straight on the memory engine,
// with a payload serialized once: the floor the store adds to.
func BenchmarkEngineCommit(b *testing.B) {
	payload, _ := json.Marshal(newBenchEvent(1))
	engineCommitLoop(b, func() ([]byte, error) { return payload, nil })
}

// BenchmarkPlainCommit is the least a program could do for the same
// commits without the store: json.Marshal of the event, then the memory
// engine. BenchmarkCommit divided by it is the store's overhead, a ratio
// that a busy machine disturbs less than the rates themselves.
func BenchmarkPlainCommit(b *testing.B) {
	ev := newBenchEvent(1)
	engineCommitLoop(b, func() ([]byte, error) { return json.Marshal(ev) })
}

// engineCommitLoop commits straight to a memory engine, b.N times, to
// streams of streamLength commits, each with the payload that payload
// returns. It reuses one attempt, as a Stream does (engines do not keep
// the pointer).
func engineCommitLoop(b *testing.B, payload func() ([]byte, error)) {
	ctx := context.Background()
	e := memory.New()
	if err := e.Initialize(ctx); err != nil {
		b.Fatal(err)
	}
	n, seq, stream := 0, 0, ""
	a := new(persistence.CommitAttempt)
	r := cputime.Start(b)
	for b.Loop() {
		if n%streamLength == 0 {
			stream, seq = "bench-"+strconv.Itoa(n/streamLength), 0
		}
		n++
		seq++
		p, err := payload()
		if err != nil {
			b.Fatal(err)
		}
		*a = persistence.CommitAttempt{
			BucketID: "default", StreamID: stream, StreamRevision: seq, CommitID: persistence.NewUUID(),
			CommitSequence: seq, CommitStamp: time.Now().UTC(), EventCount: 1, Payload: p,
		}
		_, err = e.Commit(ctx, a)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	r.Report(b, "commits", 1)
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
	r := cputime.Start(b)
	for b.Loop() {
		st, err := s.OpenStream(ctx, "read-stream", 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(st.CommittedEvents()); n != events {
			b.Fatalf("read %d events", n)
		}
	}
	b.StopTimer()
	r.Report(b, "events", events)
}

// BenchmarkAsyncDispatchRatio measures what asynchronous dispatch costs in
// commit throughput, as a ratio that drifting machine load cannot skew: it
// alternates blocks of commits on a store without dispatch and on a store
// with async dispatch (to a dispatcher that only counts), in one run, and
// reports async throughput divided by plain throughput (the target is at
// least 0.90). The async side's time includes draining its queue at Close.
func BenchmarkAsyncDispatchRatio(b *testing.B) {
	const block = 2000
	ctx := context.Background()
	var dispatched atomic.Int64
	plain := benchStore(b, nil)
	async := benchStore(b, func(w *eventstore.Builder) *eventstore.Builder {
		return w.UsingAsyncDispatch().DispatchTo(func(context.Context, eventstore.Commit) error { dispatched.Add(1); return nil })
	})
	ev := newBenchEvent(1)
	run := func(s *eventstore.Store, stream string) time.Duration {
		start := time.Now()
		st, err := s.CreateStream(stream)
		if err != nil {
			b.Fatal(err)
		}
		for range block {
			st.Add(eventstore.EventMessage{Body: ev})
			if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	var tPlain, tAsync time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		name := "ratio-" + strconv.Itoa(i)
		if i%2 == 0 {
			tPlain += run(plain, name)
			tAsync += run(async, name)
		} else {
			tAsync += run(async, name)
			tPlain += run(plain, name)
		}
	}
	start := time.Now()
	if err := async.Close(ctx); err != nil {
		b.Fatal(err)
	}
	tAsync += time.Since(start)
	b.StopTimer()
	if got, want := dispatched.Load(), int64(b.N*block); got != want {
		b.Fatalf("dispatched %d of %d commits", got, want)
	}
	commits := float64(b.N * block)
	b.ReportMetric(commits/tPlain.Seconds(), "plain-commits/s")
	b.ReportMetric(commits/tAsync.Seconds(), "async-commits/s")
	b.ReportMetric(tPlain.Seconds()/tAsync.Seconds(), "async/plain")
}

// BenchmarkAppend appends one event per commit at the expected position,
// to new streams and to the end of a stream of 10,000 events (one per
// commit) written first: the two cost the same, since Append reads
// nothing. "any" appends at AnyPosition, which looks for the end of the
// stream with about 2·log2(revision) one-commit reads.
//
//	go test -run '^$' -bench 'Append' -benchmem -count 5 .
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	ev := []eventstore.EventMessage{{Body: newBenchEvent(1)}}
	long := func(b *testing.B, s *eventstore.Store) eventstore.Position {
		pos := eventstore.NoStream
		for range 10_000 {
			c, err := s.Append(ctx, "long", pos, eventstore.NewCommitID(), ev...)
			if err != nil {
				b.Fatal(err)
			}
			pos = c.Position()
		}
		return pos
	}
	b.Run("new-stream", func(b *testing.B) {
		s := benchStore(b, nil)
		n := 0
		for b.Loop() {
			n++
			if _, err := s.Append(ctx, "new-"+strconv.Itoa(n), eventstore.NoStream, eventstore.NewCommitID(), ev...); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("10000-events", func(b *testing.B) {
		s := benchStore(b, nil)
		pos := long(b, s)
		for b.Loop() {
			c, err := s.Append(ctx, "long", pos, eventstore.NewCommitID(), ev...)
			if err != nil {
				b.Fatal(err)
			}
			pos = c.Position()
		}
	})
	b.Run("any-10000-events", func(b *testing.B) {
		s := benchStore(b, nil)
		long(b, s)
		for b.Loop() {
			if _, err := s.Append(ctx, "long", eventstore.AnyPosition, eventstore.NewCommitID(), ev...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAppendLongStreamRatio alternates appends to new streams and to
// the end of a 10,000-event stream, timing each, and reports the ratio of
// their mean costs (long/new, 1 when the stream's length costs nothing),
// which a busy machine disturbs less than two separate benchmarks.
func BenchmarkAppendLongStreamRatio(b *testing.B) {
	ctx := context.Background()
	ev := []eventstore.EventMessage{{Body: newBenchEvent(1)}}
	s := benchStore(b, nil)
	pos := eventstore.NoStream
	for range 10_000 {
		c, err := s.Append(ctx, "long", pos, eventstore.NewCommitID(), ev...)
		if err != nil {
			b.Fatal(err)
		}
		pos = c.Position()
	}
	var tNew, tLong time.Duration
	n := 0
	for b.Loop() {
		n++
		t0 := time.Now()
		if _, err := s.Append(ctx, "new-"+strconv.Itoa(n), eventstore.NoStream, eventstore.NewCommitID(), ev...); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		c, err := s.Append(ctx, "long", pos, eventstore.NewCommitID(), ev...)
		if err != nil {
			b.Fatal(err)
		}
		tNew += t1.Sub(t0)
		tLong += time.Since(t1)
		pos = c.Position()
	}
	b.ReportMetric(float64(tNew.Nanoseconds())/float64(n), "ns/new")
	b.ReportMetric(float64(tLong.Nanoseconds())/float64(n), "ns/long")
	b.ReportMetric(float64(tLong)/float64(tNew), "long/new")
}
