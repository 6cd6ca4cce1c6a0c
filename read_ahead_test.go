package eventstore_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/driver"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// readAheadStore returns a store on a memory engine that keeps no decoded
// values (so that reads decode, and read ahead, as on a server engine)
// holding n one-event commits on 10 streams, the i-th body's OrderID
// "order-i", with a select hook recording the checkpoints it sees.
func readAheadStore(t *testing.T, n int, seen *[]int64) *eventstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := eventstore.Wireup().UsingPersistence(memory.New(memory.WithKeepValues(false))).
		RegisterType("BenchEvent", benchEvent{}).
		HookIntoPipelineUsing(eventstore.HookFuncs{SelectCommitFunc: func(_ context.Context, c eventstore.Commit) (eventstore.Commit, bool, error) {
			*seen = append(*seen, c.Checkpoint)
			return c, true, nil
		}}).
		Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	for i := range n {
		if _, err := s.Append(ctx, "s-"+strconv.Itoa(i%10), eventstore.AnyPosition, eventstore.NewCommitID(),
			eventstore.EventMessage{Body: newBenchEvent(i)}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestReadAheadKeepsOrder reads far more than one batch of commits that
// must be decoded: every commit comes once, in checkpoint order, decoded,
// and the select hook sees them in that order too.
func TestReadAheadKeepsOrder(t *testing.T) {
	const n = 1000
	var seen []int64
	s := readAheadStore(t, n, &seen)
	ctx := context.Background()
	i := 0
	last := int64(0)
	for c, err := range s.Commits(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Checkpoint <= last {
			t.Fatalf("checkpoint %d after %d", c.Checkpoint, last)
		}
		last = c.Checkpoint
		if ev, ok := c.Events[0].Body.(benchEvent); !ok || ev.OrderID != "order-"+strconv.Itoa(i) {
			t.Fatalf("commit %d: body %#v", i, c.Events[0].Body)
		}
		i++
	}
	if i != n || len(seen) != n {
		t.Fatalf("read %d commits, the hook saw %d, want %d", i, len(seen), n)
	}
	for k := 1; k < len(seen); k++ {
		if seen[k] <= seen[k-1] {
			t.Fatalf("the hook saw checkpoint %d after %d", seen[k], seen[k-1])
		}
	}
	// One stream's commits (100 of them) read ahead too.
	k := 0
	for c, err := range s.StreamCommits(ctx, "s-3", 0, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if want := "order-" + strconv.Itoa(3+10*k); c.Events[0].Body.(benchEvent).OrderID != want {
			t.Fatalf("stream commit %d: %v, want %s", k, c.Events[0].Body, want)
		}
		k++
	}
	if k != n/10 {
		t.Fatalf("read %d commits of the stream, want %d", k, n/10)
	}
}

// TestReadAheadStopsWithTheLoop breaks out of a long read: no goroutine of
// the read is left behind.
func TestReadAheadStopsWithTheLoop(t *testing.T) {
	var seen []int64
	s := readAheadStore(t, 2000, &seen)
	before := runtime.NumGoroutine()
	for range 20 {
		i := 0
		for _, err := range s.Commits(context.Background(), 0) {
			if err != nil {
				t.Fatal(err)
			}
			if i++; i == 150 {
				break
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Fatalf("%d goroutines after the reads, %d before", g, before)
	}
}

// TestReadAheadStopsAtACorruptCommit stores a commit that cannot be
// decoded among good ones: the read yields every commit before it, then
// the corruption error, and nothing after.
func TestReadAheadStopsAtACorruptCommit(t *testing.T) {
	var seen []int64
	s := readAheadStore(t, 300, &seen)
	ctx := context.Background()
	bad, err := s.Engine().Commit(ctx, &persistence.CommitAttempt{BucketID: eventstore.DefaultBucket, StreamID: "broken",
		StreamRevision: 1, CommitID: persistence.NewUUID(), CommitSequence: 1, CommitStamp: time.Now().UTC(), EventCount: 1,
		Payload: []byte(`{"events":[{"type":"BenchEvent","body":{"orderId":12}}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	readAheadStoreMore(t, s, 300)
	n := 0
	var got error
	for c, err := range s.Commits(ctx, 0) {
		if err != nil {
			got = err
			continue // a read that failed yields nothing more; the loop would end here anyway
		}
		if got != nil {
			t.Fatalf("commit %d yielded after the error", c.Checkpoint)
		}
		n++
	}
	var ce *eventstore.CorruptCommitError
	if !errors.Is(got, eventstore.ErrCorrupt) || !errors.As(got, &ce) || ce.Checkpoint != bad.Checkpoint {
		t.Fatalf("got %v, want the corruption of checkpoint %d", got, bad.Checkpoint)
	}
	if n != 300 {
		t.Fatalf("%d commits before the corrupt one, want 300", n)
	}
}

func readAheadStoreMore(t *testing.T, s *eventstore.Store, n int) {
	t.Helper()
	for i := range n {
		if _, err := s.Append(context.Background(), "more-"+strconv.Itoa(i%10), eventstore.AnyPosition, eventstore.NewCommitID(),
			eventstore.EventMessage{Body: newBenchEvent(i)}); err != nil {
			t.Fatal(err)
		}
	}
}

// brokenReader is a driver that keeps commits in memory and panics when
// asked for the commits after checkpoint panicAfter, as a buggy engine
// might.
type brokenReader struct {
	mu         sync.Mutex
	commits    []persistence.Commit
	panicAfter int64
}

func (d *brokenReader) Commit(_ context.Context, a *driver.CommitAttempt) (driver.Commit, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := driver.Commit{CommitAttempt: *a, Checkpoint: int64(len(d.commits) + 1)}
	d.commits = append(d.commits, c)
	return c, nil
}

func (d *brokenReader) ReadStream(_ context.Context, q driver.StreamQuery) ([]driver.Commit, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []driver.Commit
	for _, c := range d.commits { // revision bounds left out: the test appends at known positions
		if c.BucketID == q.BucketID && c.StreamID == q.StreamID && c.CommitSequence > q.AfterSequence && len(out) < q.Limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (d *brokenReader) ReadCommits(_ context.Context, q driver.CommitQuery) ([]driver.Commit, error) {
	if q.After >= d.panicAfter {
		panic("engine bug")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []driver.Commit
	for _, c := range d.commits[q.After:] {
		if len(out) < q.Limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (d *brokenReader) Close(context.Context) error { return nil }

// TestReadAheadEnginePanicReachesTheLoop: an engine that panics while the
// store reads ahead of the loop panics in the loop's goroutine, once the
// loop has had every commit before, not in the goroutine reading ahead
// (which would end the process).
func TestReadAheadEnginePanicReachesTheLoop(t *testing.T) {
	ctx := context.Background()
	e, err := persistence.NewEngine("broken", &brokenReader{panicAfter: 512})
	if err != nil {
		t.Fatal(err)
	}
	s, err := eventstore.Wireup().UsingPersistence(e).RegisterType("BenchEvent", benchEvent{}).Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	at := map[string]eventstore.Position{}
	for i := range 700 {
		stream := "s-" + strconv.Itoa(i%10)
		c, err := s.Append(ctx, stream, at[stream], eventstore.NewCommitID(), eventstore.EventMessage{Body: newBenchEvent(i)})
		if err != nil {
			t.Fatal(err)
		}
		at[stream] = c.Position()
	}
	n := 0
	func() {
		defer func() {
			if r := recover(); r != "engine bug" {
				t.Errorf("recovered %v, want the engine's panic", r)
			}
		}()
		for _, err := range s.Commits(ctx, 0) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
	}()
	if n != 512 {
		t.Errorf("%d commits before the panic, want the first page's 512", n)
	}
}
