package s3

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// Engine instances with their own clients, writing at once to one bucket,
// get fair shares of the log: see acceptance.RunFairness and "Several
// processes" in the package documentation. Each way writes for 10 s (two
// runs of 5 s: DefaultDuration), so that a loaded machine's hiccups
// average out.
//
// On MinIO only. SeaweedFS (4.53, weed mini) answers a conditional create
// that fails with 412 only after taking a distributed lock on the key
// (weed/s3api confirmCreateLanded), and a gateway that finds that lock
// taken sleeps 1 s before it tries again (weed/cluster/lock_client.go).
// Every loser of a slot gets its 412 at the same moment (the filer
// serializes the creates of one key), so when two engines lose the same
// slot one of them stalls for a second, at random. The engine still shares
// the log there, but with margins too thin for CI: [52 88 100 64],
// [139 68 147 137] and [167 111 187 169] commits per instance in three
// runs under -race (the test fails under half the fair share, 0.5; the
// smallest were 0.68, 0.55 and 0.70 of it); MinIO in the same runs 0.83,
// 0.82 and 0.94.
//
// What sharing costs (2026-12-02, MinIO on the two CPUs the test uses,
// requests counted by a transport under the SDK, 10 s phases): one
// instance with 16 writers spends 4.25 requests a commit (a HEAD, a GET,
// two PUTs, and a log slot shared by about four commits); four instances
// of 4 writers spend 6.0: a log slot carries 1.3 commits (0.77 slot
// creates a commit, voids included), 0.41 creates are lost to another
// writer, and 0.41 LISTs are made (the tail after losses, the skipped
// slots before voiding them). MinIO is CPU-bound here, so the shared
// instances make about 4.25/6.0 of one instance's commits: with the runs
// taken in turns (RunFairness) 0.70 and 0.75 (0.68 at first); the old
// order, single first, gave 0.75 to 0.97. Slots claimed in blocks, as the
// Mongo engine claims numbers, would save the lost creates and the LISTs,
// not the smaller groups: 4.9 requests a commit, about 0.87. (With the
// slots passed over voided in sweeps that share a LIST, holes.go: 0.39
// LISTs a commit, against 0.41 and 0.48 before, 5.9 requests a commit,
// 0.65 to 0.75 in four runs.)
//
// The test logs what the log writes cost each way (logCounts). In five
// runs on 2026-12-02 the shared runs made 0.71, 0.67, 0.89, 0.89 and 0.75
// of one instance's commits; a shared slot carried 1.9 commits against
// 4.2, and per slot 0.53 creates were lost, 0.46 voids and 0.55 sweep
// LISTs made, 0.08 tail LISTs. Runs of slots, as the Azure engine writes
// them (an engine that keeps losing jumps past the tail and writes slot
// after slot from there until it meets another's), would make the
// losses, voids and LISTs rare (a loss and a LIST per run): 4.6 requests
// a commit, 0.92 of one instance by the same reckoning. But a run is
// only ended by the next run's first slot, so a run lasts about half a
// jump, and a reader then waits at a run's unwritten slots until the
// writer below reaches the run above (half a jump of that writer's round
// trips, a second or more with jumps long enough for losses to be rare)
// before it passes them, where today it waits four LIST round trips (20 ms
// to 1 s). Spread slots keep a poller close behind the writers at the
// price of these requests; which to pay is a choice about the product,
// not a fix, and is left open.
func TestFairness(t *testing.T) {
	fairness(t, func(ctx context.Context, t *testing.T, url string) (*engine, *persistence.Settings, error) {
		return open(ctx, url)
	})
}

// TestFairnessLatency is TestFairness with a cloud round trip
// (testserver.BenchLatency) added under the SDK, as S3 in a region is
// that far: sharing the log then costs what the protocol costs, not what
// the two CPUs MinIO shares with the test can give.
//
// On the two-core machine shared with other test runs (load average 2 to
// 15), a commit took 190 to 700 ms, far above the 30 ms of three round
// trips: the CPUs, not the round trip, set the rate, and the aggregate (the
// "(X of one instance)" figure) swung between runs from 0.57 to 1.14
// with the spread slots of this protocol and from 0.54 to 1.18 with the
// dense log before it (-race and not), with no difference to be told.
// On a quieter machine (load 3 to 4, test binaries run in turns, one run
// each): the dense log 0.70, 0.75, 0.80; spread slots 0.92, 0.82, 0.97, and
// after the merge 0.93, 0.84, 0.84 (TestFairness then 0.87, 0.89, 0.81).
// With the runs taken in turns: 0.77 and 0.83 (2026-12-01), 0.88 and 0.94
// (2026-12-02); with a 30 ms round trip (EVENTSTORE_BENCH_LATENCY=30ms),
// 0.96, the round trips then setting the rate more than MinIO's CPU does.
func TestFairnessLatency(t *testing.T) {
	fairness(t, func(ctx context.Context, t *testing.T, url string) (*engine, *persistence.Settings, error) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 256
		client, bucket := testClient(t, url, testserver.Latency(tr, testserver.BenchLatency()), true)
		s, err := persistence.NewSettings()
		if err != nil {
			return nil, nil, err
		}
		d, err := newEngine(client, bucket, "", s)
		return d, s, err
	})
}

// fairness runs acceptance.RunFairness on MinIO, on instances that open
// opens on one bucket's URL, and logs what the log writes of the single
// instance (the first opened) and of the shared ones cost.
func fairness(t *testing.T, open func(ctx context.Context, t *testing.T, url string) (*engine, *persistence.Settings, error)) {
	url := isolatedURL(t, testserver.S3)
	var (
		mu      sync.Mutex
		drivers []*engine
	)
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for i, group := range [][]*engine{drivers[:min(1, len(drivers))], drivers[min(1, len(drivers)):]} {
			var slots, lost, tails, voids, sweeps int64
			for _, d := range group {
				slots += d.counts.slots.Load()
				lost += d.counts.lost.Load()
				tails += d.counts.tails.Load()
				voids += d.counts.voids.Load()
				sweeps += d.counts.sweeps.Load()
			}
			t.Logf("%s: slots %d, lost %d, tail LISTs %d, voids %d, sweep LISTs %d", []string{"single (warm-up included)", "shared"}[i], slots, lost, tails, voids, sweeps)
		}
	}()
	acceptance.RunFairness(t, acceptance.Fairness{
		DefaultDuration: 10 * time.Second, // log slots come a few dozen a second: longer phases average out a loaded machine
		Open: func(ctx context.Context, t *testing.T) (*persistence.Engine, error) {
			d, s, err := open(ctx, t, url)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			drivers = append(drivers, d)
			mu.Unlock()
			e := persistence.NewEngineWithSettings("s3", d, s)
			return e, e.Initialize(ctx)
		},
	})
}
