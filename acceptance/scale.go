package acceptance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// ScaleHarness tells Scale how to make the engine, its baseline and how to
// measure its storage.
type ScaleHarness struct {
	// New returns a new, NOT yet initialized engine over storage of its own,
	// configured with opts, as for BenchHarness.New.
	New func(ctx context.Context, b *testing.B, opts ...persistence.Option) (*persistence.Engine, error)
	// Baseline, if set, returns the plain driver's side, as for
	// BenchHarness.Baseline; Scale uses its Insert, into a table (collection)
	// that it grows with the store, so that both sides insert into storage
	// of the same size. Without it (an in-process engine), Scale reports
	// the engine's rates alone.
	Baseline func(ctx context.Context, b *testing.B, e *persistence.Engine) (*Baseline, error)
	// Bytes, if set, returns the bytes the engine's storage takes (data and
	// indexes), for the bytes-per-commit figure.
	Bytes func(ctx context.Context, e *persistence.Engine) (int64, error)
	// Sizes are the store sizes, in commits, to measure at, ascending
	// (default: EVENTSTORE_SCALE_SIZES, a comma-separated list such as
	// "10000,100000,1000000", else 1,000 and 10,000).
	Sizes []int
}

// Scale grows one store through Sizes and measures, at each size, what each
// cost is, so that one can see how it grows with the store (it should not
// grow faster than the work):
//
//	Commit1, Commit16   one-event commits to new streams from 1 and 16
//	                    writers (commits/s), and the plain driver's inserts
//	                    into a table of the same size (ratio)
//	CommitExisting      one writer appending to streams already there
//	ReadAll             reading 10,000 commits from the middle of the store
//	FirstPage           the first page of a read that starts near the head
//	StreamOpen          reading a whole stream (10 commits), p50 and p99
//	Undispatched        reading every undispatched commit, with the backlog
//	                    the store has, then 10,000, then 100 (the rest is
//	                    marked dispatched in between, by 16 goroutines:
//	                    MarkDispatched's rate)
//	SnapshotScan        StreamsToSnapshot over every stream
//	Bytes               storage per commit (with ScaleHarness.Bytes)
//
// Streams hold 10 commits each. The store is grown by 16 writers through the
// engine. Each figure is reported as a metric of the sub-benchmark
// "N=<size>" and printed as a table at the end. Run it once per
// size:
//
//	EVENTSTORE_SCALE_SIZES=10000,100000,1000000 go test -run '^$' -bench BenchmarkScale -benchtime 1x -timeout 3h ./persistence/mysql
func Scale(b *testing.B, h ScaleHarness) {
	b.Helper()
	if h.New == nil {
		b.Fatal("acceptance: ScaleHarness.New must be set")
	}
	sizes := h.Sizes
	if len(sizes) == 0 {
		sizes = []int{1000, 10000}
		if v := os.Getenv("EVENTSTORE_SCALE_SIZES"); v != "" {
			sizes = nil
			for f := range strings.SplitSeq(v, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || n <= 0 {
					b.Fatalf("EVENTSTORE_SCALE_SIZES=%q: %q is not a positive number", v, f)
				}
				sizes = append(sizes, n)
			}
		}
	}
	ctx := context.Background()
	e, err := h.New(ctx, b, persistence.WithTimeout(opTimeout))
	if err != nil {
		b.Fatalf("ScaleHarness.New: %v", err)
	}
	b.Cleanup(func() { e.Close(context.Background()) })
	if err := e.Initialize(ctx); err != nil {
		b.Fatalf("Initialize: %v", err)
	}
	s := &scaleEnv{e: e, payload: make([]byte, defaultBenchPayload), bytes: h.Bytes}
	for i := range s.payload {
		s.payload[i] = byte('a' + i%26)
	}
	if h.Baseline != nil {
		if s.base, err = h.Baseline(ctx, b, e); err != nil {
			b.Fatalf("ScaleHarness.Baseline: %v", err)
		}
		if s.base.Close != nil {
			b.Cleanup(s.base.Close)
		}
	}
	for _, size := range sizes {
		t0 := time.Now()
		if err := s.grow(ctx, size); err != nil {
			b.Fatalf("growing the store to %d commits: %v", size, err)
		}
		b.Logf("grew the store to %d commits in %v", size, time.Since(t0).Round(time.Millisecond))
		b.Run(fmt.Sprintf("N=%d", size), func(b *testing.B) { s.measure(ctx, b, size) })
	}
	fmt.Printf("%s: scale figures of %v:\n%s", b.Name(), e, s.table())
}

// scaleStreamLen is the number of commits of each stream the store grows.
const scaleStreamLen = 10

type scaleEnv struct {
	e       *persistence.Engine
	base    *Baseline
	bytes   func(context.Context, *persistence.Engine) (int64, error)
	payload []byte

	size    int           // commits stored by grow
	streams atomic.Int64  // full streams grown (stream-<n>, n from 0)
	extra   atomic.Int64  // streams made by the measurements (new-<n>)
	nextSeq map[int64]int // next sequence of grown streams appended to since
	plain   atomic.Int64  // rows the baseline holds

	mu   sync.Mutex
	rows []scaleRow
}

// scaleRow is one figure at one size.
type scaleRow struct {
	size        int
	name, value string
}

func (s *scaleEnv) record(b *testing.B, size int, name string, value float64, unit string) {
	slug := strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(name)
	b.ReportMetric(value, slug+":"+unit)
	s.mu.Lock()
	s.rows = append(s.rows, scaleRow{size, name, strconv.FormatFloat(value, 'g', 4, 64) + " " + unit})
	s.mu.Unlock()
}

func (s *scaleEnv) table() string {
	var sb strings.Builder
	for _, r := range s.rows {
		fmt.Fprintf(&sb, "  N=%-9d %-26s %s\n", r.size, r.name, r.value)
	}
	return sb.String()
}

func (s *scaleEnv) attempt(stream string, seq int) *persistence.CommitAttempt {
	return &persistence.CommitAttempt{
		BucketID: benchBucket, StreamID: stream, StreamRevision: seq, CommitSequence: seq,
		CommitID: persistence.NewUUID(), CommitStamp: time.Now().UTC().Truncate(time.Microsecond),
		EventCount: 1, Payload: s.payload,
	}
}

// us returns d in microseconds.
func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// parallel runs n units of work, numbered from 0, on writers goroutines.
func parallel(writers, n int, one func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := one(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// grow commits whole streams of scaleStreamLen commits until the store
// holds at least size commits, and grows the baseline's table alike.
func (s *scaleEnv) grow(ctx context.Context, size int) error {
	streams := (size - s.size + scaleStreamLen - 1) / scaleStreamLen
	if streams <= 0 {
		return nil
	}
	first := s.streams.Load()
	err := parallel(benchWriters, streams, func(i int) error {
		id := "stream-" + strconv.FormatInt(first+int64(i), 10)
		for seq := 1; seq <= scaleStreamLen; seq++ {
			if _, err := s.e.Commit(ctx, s.attempt(id, seq)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.streams.Add(int64(streams))
	s.size += streams * scaleStreamLen
	if s.base != nil {
		rows := int64(s.size) - s.plain.Load()
		err := parallel(benchWriters, int(rows), func(i int) error {
			return s.base.Insert(ctx, "grow-"+strconv.Itoa(i%1000), i+1, s.payload)
		})
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		s.plain.Add(rows)
	}
	return nil
}

// measure takes every figure at the store's current size.
func (s *scaleEnv) measure(ctx context.Context, b *testing.B, size int) {
	if b.N != 1 {
		b.Skip("run with -benchtime 1x: the figures are taken once per size")
	}
	fail := func(what string, err error) {
		b.Helper()
		if err != nil {
			b.Fatalf("%s at %d commits: %v", what, size, err)
		}
	}

	// Commits to new streams, 1 and 16 writers, against the plain driver.
	commits := func(writers, n int) (float64, error) {
		t0 := time.Now()
		err := parallel(writers, n, func(int) error {
			id := "new-" + strconv.FormatInt(s.extra.Add(1), 10)
			_, err := s.e.Commit(ctx, s.attempt(id, 1))
			return err
		})
		return float64(n) / time.Since(t0).Seconds(), err
	}
	inserts := func(writers, n int) (float64, error) {
		t0 := time.Now()
		err := parallel(writers, n, func(i int) error {
			return s.base.Insert(ctx, "plain-"+strconv.FormatInt(s.plain.Add(1), 10), 1, s.payload)
		})
		return float64(n) / time.Since(t0).Seconds(), err
	}
	for _, w := range []int{1, benchWriters} {
		n := 200 * w
		rate, err := commits(w, n)
		fail("commits", err)
		s.size += n
		name := "Commit" + strconv.Itoa(w)
		s.record(b, size, name, rate, "commits/s")
		if s.base != nil {
			plain, err := inserts(w, n)
			fail("plain inserts", err)
			s.record(b, size, name+" ratio", rate/plain, "engine/plain")
		}
	}

	// Appends to streams already there.
	if s.nextSeq == nil {
		s.nextSeq = map[int64]int{}
	}
	t0 := time.Now()
	const appends = 200
	for range appends {
		st := rand.Int64N(s.streams.Load())
		seq, ok := s.nextSeq[st]
		if !ok {
			seq = scaleStreamLen + 1
		}
		_, err := s.e.Commit(ctx, s.attempt("stream-"+strconv.FormatInt(st, 10), seq))
		fail("appending to an existing stream", err)
		s.nextSeq[st] = seq + 1
	}
	s.size += appends
	s.record(b, size, "CommitExisting", appends/time.Since(t0).Seconds(), "commits/s")

	head, err := s.e.Head(ctx)
	fail("Head", err)

	// Reading 10,000 commits from the middle.
	const readN = 10000
	t0 = time.Now()
	n := 0
	for _, err := range s.e.ReadAll(ctx, head/2) {
		fail("ReadAll", err)
		if n++; n == readN {
			break
		}
	}
	s.record(b, size, "ReadAll", float64(n)/time.Since(t0).Seconds(), "commits/s")

	// The first page near the head, median of 21.
	var lat []time.Duration
	for range 21 {
		t0 := time.Now()
		for _, err := range s.e.ReadAll(ctx, max(head-10, 0)) {
			fail("ReadAll near the head", err)
			break
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	s.record(b, size, "FirstPage", us(lat[len(lat)/2]), "µs")

	// Opening whole streams.
	lat = lat[:0]
	for range 200 {
		id := "stream-" + strconv.FormatInt(rand.Int64N(s.streams.Load()), 10)
		t0 := time.Now()
		for _, err := range s.e.ReadStream(ctx, benchBucket, id, 0, 0) {
			fail("ReadStream", err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	s.record(b, size, "StreamOpen p50", us(lat[len(lat)/2]), "µs")
	s.record(b, size, "StreamOpen p99", us(lat[len(lat)*99/100]), "µs")

	// Undispatched reads at the backlog there is, then 10,000, then 100,
	// marking the rest dispatched in between.
	if s.e.Supports(persistence.Dispatch) {
		for _, next := range []int{10000, 100, 0} {
			var all []persistence.Commit
			t0 := time.Now()
			for c, err := range s.e.Undispatched(ctx) {
				fail("Undispatched", err)
				all = append(all, c)
			}
			took := time.Since(t0)
			s.record(b, size, fmt.Sprintf("Undispatched(%d)", len(all)), us(took)/float64(max(len(all), 1)), "µs/commit")
			if next == 0 || len(all) <= next {
				break
			}
			mark := all[:len(all)-next]
			t0 = time.Now()
			err := parallel(benchWriters, len(mark), func(i int) error { return s.e.MarkDispatched(ctx, mark[i]) })
			fail("MarkDispatched", err)
			s.record(b, size, fmt.Sprintf("MarkDispatched(%d)", len(mark)), float64(len(mark))/time.Since(t0).Seconds(), "marks/s")
		}
	}

	// A full pass of StreamsToSnapshot.
	if s.e.Supports(persistence.Snapshots) {
		t0 := time.Now()
		heads := 0
		for _, err := range s.e.StreamsToSnapshot(ctx, benchBucket, 1) {
			fail("StreamsToSnapshot", err)
			heads++
		}
		s.record(b, size, fmt.Sprintf("SnapshotScan(%d)", heads), us(time.Since(t0))/float64(max(heads, 1)), "µs/stream")
	}

	if s.bytes != nil {
		n, err := s.bytes(ctx, s.e)
		fail("Bytes", err)
		s.record(b, size, "Bytes", float64(n)/float64(head), "bytes/commit")
	}
	b.ReportMetric(0, "ns/op")
}
