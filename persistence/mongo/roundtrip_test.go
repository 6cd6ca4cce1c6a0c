package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/goeventstore/eventstore/persistence"
)

// commandLog records the commands a client sends.
type commandLog struct {
	mu    sync.Mutex
	names []string
}

func (l *commandLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.names
	l.names = nil
	return n
}

// monitoredEngine returns an engine on a fresh database whose client logs
// every command it sends.
func monitoredEngine(t *testing.T, opts ...persistence.Option) (*persistence.Engine, *commandLog) {
	t.Helper()
	driverURI, database, err := parseURI(isolatedURL(t))
	if err != nil {
		t.Fatal(err)
	}
	log := &commandLog{}
	co := mustClientOptions(t, driverURI).SetMonitor(&event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			log.mu.Lock()
			log.names = append(log.names, e.CommandName)
			log.mu.Unlock()
		},
	})
	client, err := mongo.Connect(co)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	e, err := New(client.Database(database), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	log.take()
	return e, log
}

// TestRoundTrips pins the commands each operation sends. A read is one find
// then a getMore per page, on the cursor parked between pages.
func TestRoundTrips(t *testing.T) { eachServer(t, testRoundTrips) }

func testRoundTrips(t *testing.T) {
	ctx := context.Background()
	e, log := monitoredEngine(t, persistence.WithPageSize(4))
	check := func(what string, want ...string) {
		t.Helper()
		if got := log.take(); !slices.Equal(got, want) {
			t.Errorf("%s sent %v, want %v", what, got, want)
		}
	}
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
		t.Fatal(err)
	}
	check("the first commit (checks the indexes, loads the checkpoint hint)", "listIndexes", "find", "insert")
	for i := 2; i <= 10; i++ {
		if _, err := e.Commit(ctx, attempt("b", "s", i)); err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprint("commit ", i), "insert")
	}

	// A conflict costs the insert and, where the server does not name the
	// index (FerretDB), one lookup.
	_, err := e.Commit(ctx, attempt("b", "s", 10))
	if !errors.Is(err, persistence.ErrConcurrency) {
		t.Fatalf("want ErrConcurrency, got %v", err)
	}
	if got := log.take(); !slices.Equal(got, []string{"insert", "find"}) && !slices.Equal(got, []string{"insert"}) {
		t.Errorf("a conflicting commit sent %v", got)
	}

	count := func(what string, seq func(func(persistence.Commit, error) bool)) {
		t.Helper()
		n := 0
		for _, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 10 {
			t.Fatalf("%s read %d commits", what, n)
		}
	}
	// 10 commits in pages of 4.
	count("ReadStream", e.ReadStream(ctx, "b", "s", 0, 0))
	check("ReadStream of 10 commits in pages of 4", "find", "getMore", "getMore")
	count("Undispatched", e.Undispatched(ctx))
	check("Undispatched of 10 commits in pages of 4", "find", "getMore", "getMore")
	// ReadAll looks up the purge floor first.
	count("ReadAll", e.ReadAll(ctx, 0))
	check("ReadAll of 10 commits in pages of 4", "find", "find", "getMore", "getMore")
	if _, err := e.Head(ctx); err != nil {
		t.Fatal(err)
	}
	check("Head", "find")
	// A read that stops early leaves its cursor parked, killed at Close.
	for range e.ReadStream(ctx, "b", "s", 0, 0) {
		break
	}
	check("the first page of ReadStream", "find")
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	check("Close", "killCursors")
}
