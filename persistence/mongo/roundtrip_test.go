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
	"go.mongodb.org/mongo-driver/v2/mongo/options"

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
func monitoredEngine(t *testing.T, opts *Options) (*Engine, *commandLog) {
	t.Helper()
	url := isolatedURL(t)
	driverURI, database, _, err := parseURI(url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := &commandLog{}
	client, err := mongo.Connect(options.Client().ApplyURI(driverURI).SetMonitor(&event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			log.mu.Lock()
			log.names = append(log.names, e.CommandName)
			log.mu.Unlock()
		},
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	e := New(client.Database(database), opts)
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	log.take()
	return e, log
}

// TestRoundTrips pins the number of commands each operation sends.
func TestRoundTrips(t *testing.T) {
	ctx := context.Background()
	e, log := monitoredEngine(t, &Options{PageSize: 4})
	check := func(what string, want ...string) {
		t.Helper()
		if got := log.take(); !slices.Equal(got, want) {
			t.Errorf("%s sent %v, want %v", what, got, want)
		}
	}
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
		t.Fatal(err)
	}
	check("the first commit (loads the checkpoint hint)", "find", "insert")
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

	// Reading 10 commits in pages of 4: one find and two getMores.
	n := 0
	for _, err := range e.ReadStream(ctx, "b", "s", 0, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 10 {
		t.Fatalf("read %d commits", n)
	}
	if got := log.take(); len(got) < 3 || got[0] != "find" || got[1] != "getMore" || got[2] != "getMore" || len(got) > 4 {
		t.Errorf("ReadStream of 10 commits in pages of 4 sent %v", got)
	}
}
