package acceptance

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// Fairness tells RunFairness how to open engine instances that share one
// storage, as separate processes do.
type Fairness struct {
	// Open returns a new, initialized engine instance with its own client
	// (connection pool) on the storage every call shares. RunFairness
	// closes it.
	Open func(ctx context.Context, t *testing.T) (*persistence.Engine, error)
	// Instances is the number of instances writing at once (default 4) and
	// Goroutines the writers of each (default 4).
	Instances, Goroutines int
	// Duration is how long each phase writes. Zero means
	// EVENTSTORE_FAIRNESS_DURATION (say 30s) if set, else DefaultDuration.
	Duration time.Duration
	// DefaultDuration is the phase length when neither Duration nor
	// EVENTSTORE_FAIRNESS_DURATION says (default 3 s). A server whose log
	// batches come a few dozen a second asks for longer phases here, so
	// that a loaded machine's hiccups average out.
	DefaultDuration time.Duration
	// Prepare, if set, is called on every instance before each run, before
	// the run's clock starts: a server whose start-up costs would
	// otherwise be measured (an instance that idled while others wrote
	// looks up where the log ends at its next commit, which on a test
	// server may be a pass over the store) has the instance do that here.
	Prepare func(ctx context.Context, t *testing.T, e *persistence.Engine) error
	// LatencyBound is how many times the single instance's p99 commit
	// latency the shared phase's may reach (default 10). A test server
	// that makes sharing slow for reasons of its own, not the engine's,
	// may be given a larger bound, with the reason beside it.
	LatencyBound float64
}

// RunFairness checks that instances sharing a storage progress fairly. It
// compares two ways of running Instances×Goroutines writers, every writer
// committing to a stream of its own (no conflicts): one instance running
// them all ("single"), and Instances instances of Goroutines writers each
// ("shared"). It fails unless, in the shared runs:
//
//   - every instance made at least half of its fair share of the commits;
//   - the 99th percentile of commit latency is within LatencyBound (10)
//     times the single instance's;
//   - no commit failed.
//
// A test server's speed drifts while it runs: one warms up (FerretDB on
// PostgreSQL wrote twice as many commits in its fourth 10 s phase as in
// its first), another slows as the store grows. So the single instance
// first writes for Duration/2 uncounted (a warm-up), then the two ways
// take turns in the order single, shared, shared, single, each for
// Duration/2, and each way's figures are those of its two runs together:
// a drift that goes one way through the four runs weighs on both ways
// alike.
//
// Then, with the instances' views of the log as the shared runs left
// them (behind the single instance's last run), the instances take turns
// appending to one stream, each commit through the next instance (every
// other one after reading the stream through it, as a Stream does before
// it appends), and RunFairness fails unless the stream's checkpoints
// increase with its commits: an instance that took its number from a view
// behind another's would store a commit below its predecessor, and
// readers would see the two reversed.
//
// It logs the figures, among them the shared runs' commits as a fraction
// of the single instance's (sharing should cost no throughput: about 1).
// That fraction is a speed, which a loaded machine skews, so it is
// reported, not asserted; measure it on a quiet machine with a longer
// EVENTSTORE_FAIRNESS_DURATION. It runs as one test and takes
// 2.5×Duration.
func RunFairness(t *testing.T, f Fairness) {
	t.Helper()
	if f.Instances <= 0 {
		f.Instances = 4
	}
	if f.Goroutines <= 0 {
		f.Goroutines = 4
	}
	if f.LatencyBound <= 0 {
		f.LatencyBound = 10
	}
	if f.Duration <= 0 {
		f.Duration = f.DefaultDuration
		if f.Duration <= 0 {
			f.Duration = 3 * time.Second
		}
		if v := os.Getenv("EVENTSTORE_FAIRNESS_DURATION"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatalf("EVENTSTORE_FAIRNESS_DURATION=%q: %v", v, err)
			}
			f.Duration = d
		}
	}
	ctx := context.Background()
	open := func() *persistence.Engine {
		e, err := f.Open(ctx, t)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { e.Close(context.Background()) })
		return e
	}
	prepare := func(engines []*persistence.Engine) {
		if f.Prepare == nil {
			return
		}
		for _, e := range engines {
			if err := f.Prepare(ctx, t, e); err != nil {
				t.Fatalf("Prepare: %v", err)
			}
		}
	}
	half := f.Duration / 2
	all := f.Instances * f.Goroutines
	one := []*persistence.Engine{open()}
	prepare(one)
	warm := runWriters(t, "warm-up", one, all, half)
	var single, shared writeRun
	var runs []int // each run's commits, in order
	run := func(into *writeRun, phase string, engines []*persistence.Engine, each int) {
		prepare(engines)
		r := runWriters(t, phase, engines, each, half)
		into.add(r)
		runs = append(runs, r.total())
	}
	run(&single, "single", one, all)
	engines := make([]*persistence.Engine, f.Instances)
	for i := range engines {
		engines[i] = open()
	}
	run(&shared, "shared", engines, f.Goroutines)
	run(&shared, "shared", engines, f.Goroutines)
	run(&single, "single", one, all)

	total := shared.total()
	fair := float64(total) / float64(f.Instances)
	t.Logf("warm-up, one instance, %d writers: %d commits in %v; then single, shared, shared, single: %v", all, warm.total(), half, runs)
	t.Logf("one instance, %d writers: %d commits in 2×%v, p99 %v", all, single.total(), half, single.p99())
	t.Logf("%d instances × %d writers: %d commits in 2×%v (%.2f of one instance), per instance %v, p99 %v",
		f.Instances, f.Goroutines, total, half, float64(total)/float64(single.total()), shared.counts, shared.p99())
	for i, n := range shared.counts {
		if float64(n) < fair/2 {
			t.Errorf("instance %d made %d commits, under half of its fair share %.0f: instances starve each other", i+1, n, fair)
		}
	}
	if p, s := shared.p99(), single.p99(); float64(p) > f.LatencyBound*float64(s) {
		t.Errorf("commit latency p99 %v with %d instances, over %g× the %v of one instance", p, f.Instances, f.LatencyBound, s)
	}
	takeTurns(t, engines)
}

// takeTurns appends to one stream through each of engines in turn, and
// checks that the stream's checkpoints increase with its sequence, in
// ReadStream and in ReadAll (from below the least of them: the whole log
// would take long on a cloud engine with latency added).
func takeTurns(t *testing.T, engines []*persistence.Engine) {
	t.Helper()
	ctx := context.Background()
	const bucket, turns = "fair", 24
	stream := "turns-" + persistence.NewUUID().String()
	var from int64 = -1 // below the least checkpoint the turns got: ReadAll starts there
	for seq := 1; seq <= turns; seq++ {
		e := engines[seq%len(engines)]
		if seq%2 == 0 {
			for _, err := range e.ReadStream(ctx, bucket, stream, 0, 0) {
				if err != nil {
					t.Fatalf("turn %d: ReadStream: %v", seq, err)
				}
			}
		}
		a := &persistence.CommitAttempt{
			BucketID: bucket, StreamID: stream, StreamRevision: seq, CommitSequence: seq,
			CommitID: persistence.NewUUID(), CommitStamp: time.Now().UTC(), EventCount: 1,
			Payload: []byte(`{"events":[{"body":"x"}]}`),
		}
		c, err := e.Commit(ctx, a)
		if err != nil {
			t.Fatalf("turn %d: Commit: %v", seq, err)
		}
		if from < 0 || c.Checkpoint-1 < from {
			from = c.Checkpoint - 1
		}
	}
	check := func(what string, seq func(yield func(persistence.Commit, error) bool)) {
		t.Helper()
		var got []string
		var last int64
		n := 0
		for c, err := range seq {
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if c.StreamID != stream {
				continue
			}
			n++
			got = append(got, fmt.Sprintf("%d@%d", c.CommitSequence, c.Checkpoint))
			if c.CommitSequence != n || c.Checkpoint <= last {
				t.Errorf("%s: the stream's commits taken in turns by %d instances come out of order (sequence@checkpoint): %v", what, len(engines), got)
				return
			}
			last = c.Checkpoint
		}
		if n != turns {
			t.Errorf("%s: %d of the stream's %d commits", what, n, turns)
		}
	}
	check("ReadStream", engines[0].ReadStream(ctx, bucket, stream, 0, 0))
	check("ReadAll", engines[0].ReadAll(ctx, from))
}

// writeRun is what the writers of one phase did.
type writeRun struct {
	counts    []int           // commits per instance
	latencies []time.Duration // of every commit
}

// add adds the figures of o, a run of as many instances, to r.
func (r *writeRun) add(o writeRun) {
	if r.counts == nil {
		r.counts = make([]int, len(o.counts))
	}
	for i, n := range o.counts {
		r.counts[i] += n
	}
	r.latencies = append(r.latencies, o.latencies...)
}

func (r writeRun) total() (n int) {
	for _, c := range r.counts {
		n += c
	}
	return n
}

func (r writeRun) p99() time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	l := slices.Clone(r.latencies)
	slices.Sort(l)
	return l[len(l)*99/100]
}

// runWriters runs perEngine writers on each engine for d, each committing
// one-event commits to a stream of its own.
func runWriters(t *testing.T, phase string, engines []*persistence.Engine, perEngine int, d time.Duration) writeRun {
	t.Helper()
	run := writeRun{counts: make([]int, len(engines))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	errs := make(chan error, len(engines)*perEngine)
	for i, e := range engines {
		for w := range perEngine {
			wg.Go(func() {
				stream := fmt.Sprintf("%s-%d-%d-%s", phase, i, w, persistence.NewUUID())
				var lat []time.Duration
				for seq := 1; ctx.Err() == nil; seq++ {
					a := &persistence.CommitAttempt{
						BucketID: "fair", StreamID: stream, StreamRevision: seq, CommitSequence: seq,
						CommitID: persistence.NewUUID(), CommitStamp: time.Now().UTC(), EventCount: 1,
						Payload: []byte(`{"events":[{"body":"x"}]}`),
					}
					t0 := time.Now()
					// The writer's own context: the phase ends between commits, not
					// in the middle of one.
					if _, err := e.Commit(context.Background(), a); err != nil {
						errs <- fmt.Errorf("%s phase, instance %d, after %v: %w", phase, i+1, time.Since(t0).Round(time.Millisecond), err)
						break
					}
					lat = append(lat, time.Since(t0))
				}
				mu.Lock()
				run.counts[i] += len(lat)
				run.latencies = append(run.latencies, lat...)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Commit: %v", err)
	}
	return run
}
