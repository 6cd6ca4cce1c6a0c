package subscription_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/mongo"
	"github.com/goeventstore/eventstore/persistence/mysql"
	"github.com/goeventstore/eventstore/subscription"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// mysqlStore opens a store over its own MySQL engine instance (its own
// connection pool) on url, as another process would.
func mysqlStore(t *testing.T, url string, opts ...persistence.Option) *eventstore.Store {
	t.Helper()
	return openStore(t, mysql.Open, url, opts...)
}

// openStore opens a store over its own engine instance on url.
func openStore(t *testing.T, open func(context.Context, string, ...persistence.Option) (*persistence.Engine, error), url string, opts ...persistence.Option) *eventstore.Store {
	t.Helper()
	e, err := open(context.Background(), url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := eventstore.New(e, eventstore.Options{})
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// TestLateCommitsAcrossEngines: writers on three engine instances (three
// "processes") commit concurrently on MariaDB, whose AUTO_INCREMENT hands
// out checkpoints before the rows are visible (and on MongoDB, whose
// writers pick checkpoints from a hint); a subscription on a fourth
// instance, polling every few milliseconds with small pages, must hand
// over every commit exactly once and in increasing checkpoint order (the
// gap-filling read, persistence/gapfill, keeps late commits from being
// skipped). A subscription that skipped a late commit would miss it here.
func TestLateCommitsAcrossEngines(t *testing.T) {
	for _, k := range []struct {
		kind string
		open func(context.Context, string, ...persistence.Option) (*persistence.Engine, error)
	}{{testserver.MariaDB, mysql.Open}, {testserver.Mongo, mongo.Open}} {
		t.Run(k.kind, func(t *testing.T) {
			lateCommits(t, k.open, testserver.Get(t, k.kind).Isolated(t))
		})
	}
}

func lateCommits(t *testing.T, open func(context.Context, string, ...persistence.Option) (*persistence.Engine, error), url string) {
	// A generous operation timeout: FerretDB on a busy 2-core machine is slow.
	reader := openStore(t, open, url, persistence.WithPageSize(7), persistence.WithTimeout(30*time.Second))
	var mu sync.Mutex
	seen := map[eventstore.UUID]int{}
	var order []int64
	sub, err := subscription.New(reader, subscription.Each(func(ctx context.Context, c eventstore.Commit) error {
		mu.Lock()
		defer mu.Unlock()
		seen[c.CommitID]++
		order = append(order, c.Checkpoint)
		return nil
	}), subscription.Options{PageSize: 5, Poll: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, sub, 0)

	const instances, writers, each = 3, 2, 20
	var wg sync.WaitGroup
	var ids sync.Map
	for i := range instances {
		w := openStore(t, open, url, persistence.WithTimeout(30*time.Second))
		for g := range writers {
			wg.Go(func() {
				for n := range each {
					c, err := w.Append(context.Background(), fmt.Sprintf("i%d-w%d", i, g), eventstore.AnyPosition, eventstore.NewCommitID(),
						eventstore.EventMessage{Body: map[string]any{"n": float64(n)}})
					if err != nil {
						t.Error(err)
						return
					}
					ids.Store(c.CommitID, c.Checkpoint)
				}
			})
		}
	}
	wg.Wait()
	total := instances * writers * each
	waitFor(t, "every commit", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) >= total })
	time.Sleep(50 * time.Millisecond) // a few more polls: nothing may come twice
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	ids.Range(func(k, v any) bool {
		if n := seen[k.(eventstore.UUID)]; n != 1 {
			t.Errorf("commit %v at checkpoint %d was handed over %d times, want once", k, v, n)
		}
		return true
	})
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] {
			t.Fatalf("checkpoint %d came after %d", order[i], order[i-1])
		}
	}
}

// TestEngineOutage: the server stops under a running subscription; it backs
// off (Run does not return) and, once the server is back, hands over the
// commits made since, without losing or repeating any.
func TestEngineOutage(t *testing.T) {
	srv := testserver.Dedicated(t, testserver.MariaDB)
	url := srv.Isolated(t) + "?timeout=2s&readTimeout=5s&writeTimeout=5s"
	s := mysqlStore(t, url, persistence.WithTimeout(3*time.Second))
	before := commitN(t, s, "a", "s", 3)
	rec := newRecorder()
	sub, _ := subscription.New(s, rec.handle, subscription.Options{Poll: 20 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sub.Run(ctx, 0) }()
	waitFor(t, "the first commits", func() bool { return len(rec.checkpoints()) == 3 })
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // polls fail meanwhile
	select {
	case err := <-done:
		t.Fatalf("Run returned %v during the outage, want it to back off and go on", err)
	default:
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var after []*eventstore.Commit
	waitFor(t, "the store to work again", func() bool {
		c, err := s.Bucket("a").Append(context.Background(), "s", eventstore.AnyPosition, eventstore.NewCommitID(), eventstore.EventMessage{Body: "x"})
		if err == nil {
			after = append(after, c)
		}
		return err == nil
	})
	after = append(after, commitN(t, s, "a", "s", 2)...)
	want := append(checkpointsOf(before), checkpointsOf(after)...)
	waitFor(t, "the commits made after the outage", func() bool { return len(rec.checkpoints()) >= len(want) })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if got := rec.checkpoints(); !equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
