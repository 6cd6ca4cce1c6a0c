package eventstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence/memory"
)

func TestWireupCollectsMistakes(t *testing.T) {
	_, err := eventstore.Wireup().
		UsingMongo("").
		UsingMySQL("root@tcp(127.0.0.1:3306)/x").
		UsingInMemory().
		EncryptWith([]byte("short")).
		RegisterType("", 1).
		UsingSyncDispatch().
		UsingAsyncDispatch().
		DispatchWorkers(-1).
		HookIntoPipelineUsing(nil).
		Build(context.Background())
	if err == nil {
		t.Fatal("Build accepted a broken chain")
	}
	for _, want := range []string{
		"UsingMongo: the data source must not be empty",
		"UsingInMemory: the engine was already chosen with UsingMySQL",
		"EncryptWith",
		"RegisterType",
		"UsingAsyncDispatch: dispatch was already chosen with UsingSyncDispatch",
		"DispatchWorkers",
		"HookIntoPipelineUsing: hook 0 is nil",
		"needs a dispatcher",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestWireupEngineNotLinked(t *testing.T) {
	_, err := eventstore.Wireup().UsingMongo("mongodb://127.0.0.1:1/x").Build(context.Background())
	if err == nil || !strings.Contains(err.Error(), "github.com/goeventstore/eventstore/persistence/mongo") {
		t.Fatalf("got %v, want the package to import", err)
	}
	_, err = eventstore.Wireup().UsingURL("memory://").Build(context.Background())
	if err != nil {
		t.Fatalf("memory:// URL: %v", err)
	}
}

func TestSyncDispatch(t *testing.T) {
	var got []string
	s := build(t, eventstore.Wireup().UsingSyncDispatch().DispatchTo(func(ctx context.Context, c eventstore.Commit) error {
		got = append(got, c.Events[0].Body.(string))
		return nil
	}))
	st, _ := s.CreateStream("s")
	commit(t, st, "a")
	commit(t, st, "b")
	if strings.Join(got, ",") != "a,b" {
		t.Fatalf("dispatched %v", got)
	}
	for c, err := range s.Engine().Undispatched(context.Background()) {
		t.Fatalf("left undispatched: %v %v", c, err)
	}
}

func TestDispatchFailureDoesNotFailCommit(t *testing.T) {
	ctx := context.Background()
	engine := memory.New()
	var dead atomic.Int64
	s, err := eventstore.Wireup().UsingPersistence(engine).
		DispatchTo(func(context.Context, eventstore.Commit) error { return errors.New("bus down") }).
		DispatchMaxAttempts(2).DispatchBackoff(time.Millisecond, time.Millisecond).
		DeadLetterTo(func(ctx context.Context, c eventstore.Commit, err error) { dead.Add(1) }).
		Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := s.CreateStream("s")
	commit(t, st, "x")
	if dead.Load() != 1 {
		t.Fatalf("dead letters: %d", dead.Load())
	}
	n := 0
	for _, err := range engine.Undispatched(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("%d undispatched, want 1", n)
	}
}

// Build dispatches what an earlier run left undispatched, before the commits
// stored after it, and Close drains the asynchronous queue.
func TestBuildRedispatchesAndCloseDrains(t *testing.T) {
	ctx := context.Background()
	engine := memory.New()
	first, err := eventstore.Wireup().UsingPersistence(engine).Build(ctx) // no dispatcher
	if err != nil {
		t.Fatal(err)
	}
	st, _ := first.CreateStream("s")
	commit(t, st, "left-1")
	commit(t, st, "left-2")

	var mu sync.Mutex
	var got []string
	second, err := eventstore.Wireup().UsingPersistence(engine).UsingAsyncDispatch().DispatchWorkers(2).
		DispatchTo(func(ctx context.Context, c eventstore.Commit) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, c.Events[0].Body.(string))
			return nil
		}).Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Build dispatches left-1 and left-2 in the background; the new commits,
	// stored meanwhile, still reach the dispatcher after them.
	st2, _ := second.OpenStream(ctx, "s", 0, 0)
	for _, b := range []string{"new-1", "new-2", "new-3"} {
		commit(t, st2, b)
	}
	if err := second.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "left-1,left-2,new-1,new-2,new-3" {
		t.Fatalf("dispatched %v", got)
	}
}

// Commits a select hook filters out are not dispatched at start-up, and are
// marked dispatched so that they do not come back at every start.
func TestRedispatchSkipsFilteredCommits(t *testing.T) {
	ctx := context.Background()
	engine := memory.New()
	first, err := eventstore.Wireup().UsingPersistence(engine).Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := first.CreateStream("s")
	commit(t, st, "keep")
	commit(t, st, "drop")

	var got []string
	second, err := eventstore.Wireup().UsingPersistence(engine).
		HookIntoPipelineUsing(eventstore.HookFuncs{SelectCommitFunc: func(ctx context.Context, c eventstore.Commit) (eventstore.Commit, bool, error) {
			return c, c.Events[0].Body != "drop", nil
		}}).
		DispatchTo(func(ctx context.Context, c eventstore.Commit) error {
			got = append(got, c.Events[0].Body.(string))
			return nil
		}).Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.Redispatch(ctx); err != nil { // waits for Build's
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "keep" {
		t.Fatalf("dispatched %v", got)
	}
	for c, err := range engine.Undispatched(ctx) {
		t.Fatalf("still undispatched: %+v %v", c, err)
	}
}

func TestNewWithDispatcher(t *testing.T) {
	ctx := context.Background()
	engine := memory.New()
	if err := engine.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	s := eventstore.New(engine, eventstore.Options{
		Dispatcher: eventstore.DispatcherFunc(func(context.Context, eventstore.Commit) error { n++; return nil }),
	})
	st, _ := s.CreateStream("s")
	commit(t, st, "x")
	if n != 1 {
		t.Fatalf("dispatched %d", n)
	}
	for c, err := range engine.Undispatched(ctx) {
		t.Fatalf("not marked dispatched: %v %v", c, err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
