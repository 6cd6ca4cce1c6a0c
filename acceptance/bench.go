package acceptance

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/internal/cputime"
	"github.com/goeventstore/eventstore/persistence"
)

// BenchHarness tells Bench how to make the engine and its baseline: the
// engine's own driver doing the same unit of work against the same server.
type BenchHarness struct {
	// New returns a new, NOT yet initialized engine over storage of its own
	// (Bench calls Initialize and, at the end, Close), configured with opts
	// (Bench passes a generous operation timeout, 30 seconds, so that a slow
	// page on a loaded machine does not end the benchmark: hand them to the
	// engine's Open or New). It is called once per Bench call.
	New func(ctx context.Context, b *testing.B, opts ...persistence.Option) (*persistence.Engine, error)
	// Baseline returns the plain driver's side of the comparison, given the
	// initialized engine (whose As gives the native client, and whose
	// storage the baseline's Read reads). It is called once per Bench call,
	// after New.
	Baseline func(ctx context.Context, b *testing.B, e *persistence.Engine) (*Baseline, error)
	// Payload is the size in bytes of each commit's payload and of each
	// baseline insert's (default 512).
	Payload int
	// ReadEvents is the number of one-event commits in the stream the
	// ReadStream benchmark reads (default 10,000).
	ReadEvents int
}

// Baseline is the plain driver doing the unit of work of each benchmark, so
// that the engine's rate can be read as a fraction of what the storage
// gives without it.
type Baseline struct {
	// Insert stores one row (document, item) holding payload, in one round
	// trip, as a commit does: the plain driver's counterpart of one Commit.
	// stream and seq name it, should the storage want a key (each writer
	// has a stream of its own; seq counts from 1 within it). It is called
	// from 16 goroutines at once in Commit16.
	Insert func(ctx context.Context, stream string, seq int, payload []byte) error
	// Read reads with the plain driver every row the engine stored for the
	// stream, in order, decoding the fields a commit has, and returns how
	// many events they hold: the plain driver's counterpart of a
	// ReadStream of the whole stream.
	Read func(ctx context.Context, bucketID, streamID string) (events int, err error)
	// Seed, if set, stores n one-event commits of payload in the stream
	// (sequences 1 to n) faster than n Commits would (one transaction, say),
	// exactly as the engine stores them. Without it, Bench commits them
	// through the engine.
	Seed func(ctx context.Context, bucketID, streamID string, n int, payload []byte) error
	// Close, if set, releases what the baseline holds, at the end of Bench.
	Close func()
}

// Defaults of BenchHarness, and the warm-up: units of work of each side
// run before the first benchmark, untimed, so that a fresh server's first
// allocations (files, buffer pool, connections) are paid by neither.
const (
	defaultBenchPayload = 512
	defaultReadEvents   = 10000
	benchWarmUp         = 100
	benchBucket         = "bench"
	// benchWriters is the number of goroutines of Commit16, and
	// benchPerWriter the fewest units each runs in a phase.
	benchWriters   = 16
	benchPerWriter = 8
	// minPhase is the shortest phase: phases of one unit grow until a phase
	// lasts this long, so that reading the clocks costs little against the
	// work measured (a few µs a phase), while phases stay short enough for
	// both sides to meet the same conditions.
	minPhase = time.Millisecond
)

// Bench runs the engine's benchmarks against its baseline, as sub-benchmarks
// of b:
//
//	Commit      one writer: a one-event commit vs one Baseline.Insert
//	Commit16    16 writers on streams of their own vs 16 concurrent Inserts
//	ReadStream  a ReadStream of a stream of ReadEvents one-event commits
//	            vs one Baseline.Read of the same rows
//
// Each runs b.N units of the engine's work and b.N of the baseline's in
// alternating phases (which side goes first alternates too), so that load
// drifting during the run (a shared machine, a server's background work)
// hits both alike, and reports:
//
//	engine-<unit>/s, plain-<unit>/s          rates over each side's phases
//	ratio                                    engine rate / plain rate
//	engine-<unit>/cpu-s, plain-<unit>/cpu-s  rates per CPU-second of this
//	                                         process (the client side) over
//	                                         each side's phases
//
// where unit is commits for the first two, events for ReadStream. The ratio
// is the figure to quote and compare; run with -count and quote the median.
func Bench(b *testing.B, h BenchHarness) {
	b.Helper()
	if h.New == nil || h.Baseline == nil {
		b.Fatal("acceptance: BenchHarness.New and BenchHarness.Baseline must be set")
	}
	if h.Payload <= 0 {
		h.Payload = defaultBenchPayload
	}
	if h.ReadEvents <= 0 {
		h.ReadEvents = defaultReadEvents
	}
	ctx := context.Background()
	e, err := h.New(ctx, b, persistence.WithTimeout(opTimeout))
	if err != nil {
		b.Fatalf("BenchHarness.New: %v", err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			b.Errorf("Close: %v", err)
		}
	})
	if err := e.Initialize(ctx); err != nil {
		b.Fatalf("Initialize: %v", err)
	}
	base, err := h.Baseline(ctx, b, e)
	if err != nil {
		b.Fatalf("BenchHarness.Baseline: %v", err)
	}
	if base == nil || base.Insert == nil || base.Read == nil {
		b.Fatal("BenchHarness.Baseline returned no Baseline, or one without Insert or Read")
	}
	if base.Close != nil {
		b.Cleanup(base.Close)
	}
	env := &benchEnv{e: e, base: base, payload: make([]byte, h.Payload), readEvents: h.ReadEvents}
	for i := range env.payload {
		env.payload[i] = byte('a' + i%26)
	}
	if err := env.commits(ctx, 0, benchWarmUp); err != nil {
		b.Fatalf("warming up the engine: %v", err)
	}
	if err := env.inserts(ctx, 0, benchWarmUp); err != nil {
		b.Fatalf("warming up the baseline: %v", err)
	}
	b.Run("Commit", env.benchCommit)
	b.Run("Commit16", env.benchCommit16)
	b.Run("ReadStream", env.benchReadStream)
}

// benchEnv is what the sub-benchmarks of one Bench call share. A
// sub-benchmark runs several times (b.N grows): streams go on from where
// the previous run left them.
type benchEnv struct {
	e          *persistence.Engine
	base       *Baseline
	payload    []byte
	readEvents int

	// seq is the last sequence of each writer's stream, per side; writer 0
	// is Commit's, 1 to 16 Commit16's.
	engineSeq, plainSeq [1 + benchWriters]int

	seedOnce sync.Once
	seedErr  error
}

// stream names writer w's stream.
func stream(w int) string { return fmt.Sprintf("writer-%02d", w) }

// commits commits n one-event commits to writer w's stream.
func (env *benchEnv) commits(ctx context.Context, w, n int) error {
	for range n {
		env.engineSeq[w]++
		seq := env.engineSeq[w]
		a := &persistence.CommitAttempt{BucketID: benchBucket, StreamID: stream(w), StreamRevision: seq, CommitID: persistence.NewUUID(),
			CommitSequence: seq, CommitStamp: time.Now().UTC(), EventCount: 1, Payload: env.payload}
		if _, err := env.e.Commit(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// inserts makes n baseline inserts to writer w's stream.
func (env *benchEnv) inserts(ctx context.Context, w, n int) error {
	for range n {
		env.plainSeq[w]++
		if err := env.base.Insert(ctx, stream(w), env.plainSeq[w], env.payload); err != nil {
			return err
		}
	}
	return nil
}

// on16 runs n units of work over the 16 writers (1 to 16), each unit a
// call of one(w, 1), and returns the first error.
func on16(n int, one func(w, n int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, benchWriters)
	for i := range benchWriters {
		k := n / benchWriters
		if i < n%benchWriters {
			k++
		}
		wg.Go(func() { errs[i] = one(i+1, k) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (env *benchEnv) benchCommit(b *testing.B) {
	ctx := context.Background()
	pair(b, "commits", 1, 1,
		func(n int) error { return env.commits(ctx, 0, n) },
		func(n int) error { return env.inserts(ctx, 0, n) })
}

func (env *benchEnv) benchCommit16(b *testing.B) {
	ctx := context.Background()
	pair(b, "commits", 1, benchWriters*benchPerWriter,
		func(n int) error { return on16(n, func(w, k int) error { return env.commits(ctx, w, k) }) },
		func(n int) error { return on16(n, func(w, k int) error { return env.inserts(ctx, w, k) }) })
}

// readStream is the stream ReadStream reads.
const readStream = "read"

func (env *benchEnv) benchReadStream(b *testing.B) {
	ctx := context.Background()
	env.seedOnce.Do(func() { env.seedErr = env.seed(ctx) })
	if env.seedErr != nil {
		b.Fatalf("seeding the stream to read: %v", env.seedErr)
	}
	n := env.readEvents
	pair(b, "events", float64(n), 1,
		func(k int) error {
			for range k {
				got := 0
				for c, err := range env.e.ReadStream(ctx, benchBucket, readStream, 0, 0) {
					if err != nil {
						return err
					}
					got += c.EventCount
				}
				if got != n {
					return fmt.Errorf("ReadStream read %d events, want %d", got, n)
				}
			}
			return nil
		},
		func(k int) error {
			for range k {
				got, err := env.base.Read(ctx, benchBucket, readStream)
				if err != nil {
					return err
				}
				if got != n {
					return fmt.Errorf("Baseline.Read read %d events, want %d", got, n)
				}
			}
			return nil
		})
}

// seed stores the stream ReadStream reads, with Baseline.Seed or, without
// it, through the engine.
func (env *benchEnv) seed(ctx context.Context) error {
	if env.base.Seed != nil {
		return env.base.Seed(ctx, benchBucket, readStream, env.readEvents, env.payload)
	}
	for seq := 1; seq <= env.readEvents; seq++ {
		a := &persistence.CommitAttempt{BucketID: benchBucket, StreamID: readStream, StreamRevision: seq, CommitID: persistence.NewUUID(),
			CommitSequence: seq, CommitStamp: time.Now().UTC(), EventCount: 1, Payload: env.payload}
		if _, err := env.e.Commit(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// side is the time one side of a pair spent in its phases.
type side struct{ wall, cpu time.Duration }

// run runs f(n) as one phase and adds its times.
func (s *side) run(b *testing.B, f func(int) error, n int) time.Duration {
	t0, c0 := time.Now(), cputime.Process()
	if err := f(n); err != nil {
		b.Fatal(err)
	}
	d := time.Since(t0)
	s.wall += d
	s.cpu += cputime.Process() - c0
	return d
}

// pair runs b.N units of the engine's work and b.N of the plain driver's in
// alternating phases of equal size, the engine first in even rounds and
// the plain driver first in odd ones, and reports both rates and their
// ratio (see Bench). A phase is at least minUnits units (the work of all
// writers together), and phases double until each lasts minPhase. perUnit
// is how many of unit a unit of work holds.
func pair(b *testing.B, unit string, perUnit float64, minUnits int, engine, plain func(n int) error) {
	var eng, pl side
	k := minUnits
	b.ResetTimer()
	for done, round := 0, 0; done < b.N; round++ {
		n := min(k, b.N-done)
		var de, dp time.Duration
		if round%2 == 0 {
			de = eng.run(b, engine, n)
			dp = pl.run(b, plain, n)
		} else {
			dp = pl.run(b, plain, n)
			de = eng.run(b, engine, n)
		}
		done += n
		if min(de, dp) < minPhase {
			k *= 2
		}
	}
	b.StopTimer()
	units := float64(b.N) * perUnit
	re, rp := units/eng.wall.Seconds(), units/pl.wall.Seconds()
	b.ReportMetric(re, "engine-"+unit+"/s")
	b.ReportMetric(rp, "plain-"+unit+"/s")
	b.ReportMetric(re/rp, "ratio")
	if eng.cpu > 0 && pl.cpu > 0 {
		b.ReportMetric(units/eng.cpu.Seconds(), "engine-"+unit+"/cpu-s")
		b.ReportMetric(units/pl.cpu.Seconds(), "plain-"+unit+"/cpu-s")
	}
	b.ReportMetric(0, "ns/op")
}
