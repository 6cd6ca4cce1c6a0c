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

// monitoredEngine returns an engine on the database of url whose client
// logs every command it sends.
func monitoredEngine(t *testing.T, url string, opts ...persistence.Option) (*persistence.Engine, *commandLog) {
	t.Helper()
	driverURI, database, err := parseURI(url)
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

// countOf returns how many times s occurs in ss.
func countOf(ss []string, s string) (n int) {
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

// TestRoundTrips pins the commands each operation sends. A read is one find
// then a getMore per page, on the cursor parked between pages.
func TestRoundTrips(t *testing.T) { eachServer(t, testRoundTrips) }

func testRoundTrips(t *testing.T) {
	ctx := context.Background()
	url := isolatedURL(t)
	e, log := monitoredEngine(t, url, persistence.WithPageSize(4))
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
	var last persistence.Commit
	for i := 2; i <= 10; i++ {
		c, err := e.Commit(ctx, attempt("b", "s", i))
		if err != nil {
			t.Fatal(err)
		}
		last = c
		check(fmt.Sprint("commit ", i), "insert")
	}

	// A conflict costs the insert and, where the server does not name the
	// index (FerretDB), a second insert at another checkpoint and one
	// lookup.
	_, err := e.Commit(ctx, attempt("b", "s", 10))
	if !errors.Is(err, persistence.ErrConcurrency) {
		t.Fatalf("want ErrConcurrency, got %v", err)
	}
	burnt := 0 // checkpoints tried by failed inserts: the engine's hint is past them
	got := log.take()
	if !slices.Equal(got, []string{"insert", "insert", "find"}) && !slices.Equal(got, []string{"insert"}) {
		t.Errorf("a conflicting commit sent %v", got)
	}
	burnt += countOf(got, "insert")
	// So does a commit ID already stored on the stream.
	dup := attempt("b", "s", 11)
	dup.CommitID = last.CommitID
	if _, err := e.Commit(ctx, dup); !errors.Is(err, persistence.ErrDuplicateCommit) {
		t.Fatalf("want ErrDuplicateCommit, got %v", err)
	}
	got = log.take()
	if !slices.Equal(got, []string{"insert", "insert", "find"}) && !slices.Equal(got, []string{"insert"}) {
		t.Errorf("a duplicate commit sent %v", got)
	}
	burnt += countOf(got, "insert")

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
	// Another process took the next checkpoint (starting from the greatest
	// stored, it takes the ones this engine burnt, then that one): the
	// commit collides on _id and tries the next one, with no lookup.
	other, _ := openEngine(t, url)
	for seq := 1; seq <= burnt+1; seq++ {
		if _, err := other.Commit(ctx, attempt("b", "other", seq)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Commit(ctx, attempt("b", "s2", 1)); err != nil {
		t.Fatal(err)
	}
	check("a commit whose checkpoint another process took", "insert", "insert")
	if _, err := e.Commit(ctx, attempt("b", "s2", 2)); err != nil {
		t.Fatal(err)
	}
	check("the commit after it", "insert")
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
