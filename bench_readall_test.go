package eventstore_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/internal/cputime"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// readAllCommits is how many one-event commits the read-all benchmarks read.
const readAllCommits = 10000

// readAllStore returns a store on a memory engine that keeps no decoded
// values, so that reads decode every payload as on a server engine,
// holding readAllCommits commits on 100 streams.
func readAllStore(b *testing.B) *eventstore.Store {
	b.Helper()
	s := benchStore(b, func(w *eventstore.Builder) *eventstore.Builder {
		return w.UsingPersistence(memory.New(memory.WithKeepValues(false)))
	})
	ctx := context.Background()
	for i := range readAllCommits {
		if _, err := s.Append(ctx, "s-"+strconv.Itoa(i%100), eventstore.AnyPosition, eventstore.NewCommitID(),
			eventstore.EventMessage{Body: newBenchEvent(i)}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkReadAll reads every commit through Store.Commits, payloads
// decoded into the registered event type. BenchmarkReadAllPlainJSON is its
// baseline: the same payloads read from the engine and unmarshalled by
// encoding/json into a struct of the commit's shape. Compare commits/cpu-s.
func BenchmarkReadAll(b *testing.B) {
	s := readAllStore(b)
	ctx := context.Background()
	r := cputime.Start(b)
	for b.Loop() {
		n := 0
		for c, err := range s.Commits(ctx, 0) {
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := c.Events[0].Body.(benchEvent); !ok {
				b.Fatalf("body %T", c.Events[0].Body)
			}
			n++
		}
		if n != readAllCommits {
			b.Fatalf("read %d commits", n)
		}
	}
	b.StopTimer()
	r.Report(b, "commits", readAllCommits)
}

// BenchmarkReadAllPlainJSON: see BenchmarkReadAll.
func BenchmarkReadAllPlainJSON(b *testing.B) {
	s := readAllStore(b)
	ctx := context.Background()
	var p struct {
		Headers map[string]any `json:"headers"`
		Events  []struct {
			Headers map[string]any `json:"headers"`
			Type    string         `json:"type"`
			Body    benchEvent     `json:"body"`
		} `json:"events"`
	}
	r := cputime.Start(b)
	for b.Loop() {
		n := 0
		for c, err := range s.Engine().ReadAll(ctx, 0) {
			if err != nil {
				b.Fatal(err)
			}
			p.Events = p.Events[:0]
			if err := json.Unmarshal(c.Payload, &p); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != readAllCommits {
			b.Fatalf("read %d commits", n)
		}
	}
	b.StopTimer()
	r.Report(b, "commits", readAllCommits)
}

// BenchmarkDecode decodes one commit of the read-all benchmarks, as
// Store.Decode does for a commit read from the engine: what decoding
// costs per commit, in one goroutine, without the read around it.
func BenchmarkDecode(b *testing.B) {
	s := benchStore(b, func(w *eventstore.Builder) *eventstore.Builder {
		return w.UsingPersistence(memory.New(memory.WithKeepValues(false)))
	})
	ctx := context.Background()
	if _, err := s.Append(ctx, "s", eventstore.AnyPosition, eventstore.NewCommitID(), eventstore.EventMessage{Body: newBenchEvent(1)}); err != nil {
		b.Fatal(err)
	}
	var pc persistence.Commit
	for c, err := range s.Engine().ReadAll(ctx, 0) {
		if err != nil {
			b.Fatal(err)
		}
		pc = c
	}
	b.ReportAllocs()
	for b.Loop() {
		c, _, err := s.Decode(ctx, pc)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := c.Events[0].Body.(benchEvent); !ok {
			b.Fatalf("body %T", c.Events[0].Body)
		}
	}
}
