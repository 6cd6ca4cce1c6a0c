package mysql

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// Paired benchmarks: the engine and the plain driver take turns, in short
// phases, against the same server, so that both meet the same conditions
// (a shared machine's disk and CPU vary from second to second far more than
// the difference being measured). Each reports both rates and the engine's
// as a percentage of the plain driver's.

// pairedClock accumulates the time of each side's phases.
type pairedClock struct{ engine, plain time.Duration }

func (c *pairedClock) report(b *testing.B, unit string, ops float64) {
	er, pr := ops/c.engine.Seconds(), ops/c.plain.Seconds()
	b.ReportMetric(er, "engine-"+unit)
	b.ReportMetric(pr, "plain-"+unit)
	b.ReportMetric(100*er/pr, "%-of-plain")
	b.ReportMetric(0, "ns/op")
}

// benchPaired1: one writer; a commit, then a plain insert, b.N times.
func benchPaired1(b *testing.B, url string) {
	env := getBench(b, url)
	ctx := context.Background()
	stream := newStreamID()
	payload := make([]byte, benchPayload)
	var clk pairedClock
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		a := &persistence.CommitAttempt{BucketID: "bench", StreamID: stream, StreamRevision: i, CommitID: persistence.NewUUID(),
			CommitSequence: i, CommitStamp: time.Now().UTC(), EventCount: 1, Payload: payload}
		t0 := time.Now()
		if _, err := env.e.Commit(ctx, a); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := env.plain.ExecContext(ctx, env.row); err != nil {
			b.Fatal(err)
		}
		clk.engine += t1.Sub(t0)
		clk.plain += time.Since(t1)
	}
	clk.report(b, "commits/s", float64(b.N))
}

// benchPaired16: 16 writers; phases of 16x8 commits (each writer on its own
// stream) and 16x8 plain inserts, alternating.
func benchPaired16(b *testing.B, url string) {
	env := getBench(b, url)
	ctx := context.Background()
	const writers, perPhase = 16, 8
	streams := make([]string, writers)
	seqs := make([]int, writers)
	for w := range streams {
		streams[w] = newStreamID()
	}
	payload := make([]byte, benchPayload)
	phase := func(f func(w int) error) time.Duration {
		t0 := time.Now()
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for range perPhase {
					if err := f(w); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return time.Since(t0)
	}
	rounds := max(1, b.N/(writers*perPhase))
	var clk pairedClock
	b.ResetTimer()
	for range rounds {
		clk.engine += phase(func(w int) error {
			seqs[w]++
			a := &persistence.CommitAttempt{BucketID: "bench", StreamID: streams[w], StreamRevision: seqs[w], CommitID: persistence.NewUUID(),
				CommitSequence: seqs[w], CommitStamp: time.Now().UTC(), EventCount: 1, Payload: payload}
			_, err := env.e.Commit(ctx, a)
			return err
		})
		clk.plain += phase(func(int) error {
			_, err := env.plain.ExecContext(ctx, env.row)
			return err
		})
		if b.Failed() {
			return
		}
	}
	clk.report(b, "commits/s", float64(rounds*writers*perPhase))
}

// benchPairedRead: ReadStream of the 10,000-commit stream, then the plain
// SELECT of the same rows, b.N times.
func benchPairedRead(b *testing.B, url string) {
	env := getBench(b, url)
	stream := streamOf10k(b, env)
	ctx := context.Background()
	st, err := env.db.PrepareContext(ctx, plainSelectSQL)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var clk pairedClock
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		readAllOfStream(b, env.e, stream)
		t1 := time.Now()
		plainSelect(b, st, stream)
		clk.engine += t1.Sub(t0)
		clk.plain += time.Since(t1)
	}
	clk.report(b, "events/s", float64(b.N*readEvents))
}
