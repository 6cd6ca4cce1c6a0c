package memory_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/internal/cputime"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

var payload512 = make([]byte, 512)

func attempt(bucket, stream string, seq, events int) *persistence.CommitAttempt {
	return &persistence.CommitAttempt{
		BucketID: bucket, StreamID: stream,
		StreamRevision: seq * events, CommitSequence: seq, EventCount: events,
		CommitID: persistence.NewUUID(), CommitStamp: time.Unix(1700000000, 0).UTC(),
		Payload: payload512,
	}
}

// BenchmarkCommit commits from one goroutine: to a new stream every commit,
// and 100 commits per stream. The attempt is rewritten in place between
// commits (stream, next sequence, new commit ID), which costs a few
// nanoseconds.
func BenchmarkCommit(b *testing.B) {
	for _, per := range []int{1, 100} {
		b.Run("commits_per_stream="+strconv.Itoa(per), func(b *testing.B) {
			ctx := context.Background()
			e := memory.New()
			a := attempt(persistence.DefaultBucket, "", 1, 1)
			names := make([]string, b.N/per+1)
			for i := range names {
				names[i] = "stream-" + strconv.Itoa(i)
			}
			r := cputime.Start(b)
			for i := range b.N {
				a.StreamID = names[i/per]
				a.CommitSequence = i%per + 1
				a.StreamRevision = a.CommitSequence
				a.CommitID[0], a.CommitID[1], a.CommitID[2], a.CommitID[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
				if _, err := e.Commit(ctx, a); err != nil {
					b.Fatal(err)
				}
			}
			r.Report(b, "commits", 1)
		})
	}
}

// BenchmarkCommitParallel commits from GOMAXPROCS goroutines, each to streams
// of its own.
func BenchmarkCommitParallel(b *testing.B) {
	ctx := context.Background()
	e := memory.New()
	var next int64
	var mu = make(chan struct{}, 1)
	r := cputime.Start(b)
	b.RunParallel(func(pb *testing.PB) {
		mu <- struct{}{}
		next++
		me := "writer-" + strconv.FormatInt(next, 10)
		<-mu
		a := attempt(persistence.DefaultBucket, me, 1, 1)
		n := 0
		for pb.Next() {
			n++
			a.StreamID = me + "-" + strconv.Itoa(n/100)
			a.CommitSequence = n%100 + 1
			a.StreamRevision = a.CommitSequence
			a.CommitID[0], a.CommitID[1], a.CommitID[2], a.CommitID[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
			if _, err := e.Commit(ctx, a); err != nil {
				b.Error(err)
				return
			}
		}
	})
	r.Report(b, "commits", 1)
}

// BenchmarkReadStream reads a 10,000-event stream: 10,000 commits of one
// event, and 1,000 commits of ten.
func BenchmarkReadStream(b *testing.B) {
	for _, events := range []int{1, 10} {
		b.Run("events_per_commit="+strconv.Itoa(events), func(b *testing.B) {
			ctx := context.Background()
			e := memory.New()
			for seq := 1; seq <= 10000/events; seq++ {
				if _, err := e.Commit(ctx, attempt("b", "s", seq, events)); err != nil {
					b.Fatal(err)
				}
			}
			r := cputime.Start(b)
			for b.Loop() {
				n := 0
				for c, err := range e.ReadStream(ctx, "b", "s", 0, 0) {
					if err != nil {
						b.Fatal(err)
					}
					n += c.EventCount
				}
				if n != 10000 {
					b.Fatalf("read %d events, want 10000", n)
				}
			}
			r.Report(b, "events", 10000)
		})
	}
}

// BenchmarkReadAll reads 10,000 commits through ReadAll.
func BenchmarkReadAll(b *testing.B) {
	ctx := context.Background()
	e := memory.New()
	for i := range 10000 {
		if _, err := e.Commit(ctx, attempt("b", "s"+strconv.Itoa(i%100), i/100+1, 1)); err != nil {
			b.Fatal(err)
		}
	}
	r := cputime.Start(b)
	for b.Loop() {
		n := 0
		for _, err := range e.ReadAll(ctx, 0) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 10000 {
			b.Fatalf("read %d commits", n)
		}
	}
	r.Report(b, "commits", 10000)
}
