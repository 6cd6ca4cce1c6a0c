package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/internal/dispatchtest"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// leaveBacklog stores streams x perStream commits through a store without
// dispatch (a run that crashed before dispatching them), and returns each
// stream's last commit.
func leaveBacklog(t *testing.T, engineStore *eventstore.Store, streams, perStream int) map[string]*eventstore.Commit {
	t.Helper()
	ctx := context.Background()
	last := map[string]*eventstore.Commit{}
	for i := range perStream {
		for j := range streams {
			id := fmt.Sprintf("backlog-%d", j)
			pos := eventstore.NoStream
			if c := last[id]; c != nil {
				pos = c.Position()
			}
			c, err := engineStore.Append(ctx, id, pos, eventstore.NewCommitID(), ev(fmt.Sprint(i))...)
			if err != nil {
				t.Fatal(err)
			}
			last[id] = c
		}
	}
	return last
}

// Build returns while the dispatcher has not seen the backlog an earlier run
// left (the dispatcher holds the first commits until released): the backlog
// is dispatched in the background, with progress in the logs, and the
// commits stored meanwhile are dispatched after it, in order per stream,
// each exactly once. Both schedulers.
func TestBuildReturnsBeforeBacklog(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(map[bool]string{false: "sync", true: "async"}[async], func(t *testing.T) {
			ctx := context.Background()
			engine := memory.New()
			crashed, err := eventstore.Wireup().UsingPersistence(engine).Build(ctx) // no dispatcher; not closed
			if err != nil {
				t.Fatal(err)
			}
			const streams, perStream = 40, 75 // 3,000 commits
			last := leaveBacklog(t, crashed, streams, perStream)

			g := dispatchtest.NewGated()
			t.Cleanup(g.Open)
			logs := &dispatchtest.LogBuffer{}
			w := eventstore.Wireup().UsingPersistence(engine).DispatchWith(g).
				LogTo(slog.New(slog.NewTextHandler(logs, nil)))
			if async {
				// A queue smaller than the backlog: the catch-up is still
				// under way when the new commits are stored.
				w = w.UsingAsyncDispatch().DispatchWorkers(4).DispatchQueueSize(64)
			}
			s := buildHeld(t, w)
			if n := g.Calls.Load(); n >= streams*perStream {
				t.Fatalf("Build returned after the dispatcher saw %d of %d commits", n, streams*perStream)
			}
			if g.Delivered() != 0 {
				t.Fatalf("the gated dispatcher let %d commits through", g.Delivered())
			}

			// New commits on backlog streams, stored while the backlog waits:
			// they must reach the dispatcher after the stream's older ones.
			const added = 10
			for j := range added {
				id := fmt.Sprintf("backlog-%d", j)
				if _, err := s.Append(ctx, id, last[id].Position(), eventstore.NewCommitID(), ev("new")...); err != nil {
					t.Fatal(err)
				}
			}
			g.Open()
			if _, err := s.Redispatch(ctx); err != nil { // waits for Build's
				t.Fatal(err)
			}
			drained(t, s)
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if n := g.Delivered(); n != streams*perStream+added {
				t.Fatalf("%d dispatches, want %d (each commit once)", n, streams*perStream+added)
			}
			for j := range streams {
				id := fmt.Sprintf("backlog-%d", j)
				want := perStream
				if j < added {
					want++
				}
				seqs := g.Sequences(id)
				if len(seqs) != want {
					t.Fatalf("stream %s: %d commits dispatched, want %d", id, len(seqs), want)
				}
				for i, seq := range seqs {
					if seq != i+1 {
						t.Fatalf("stream %s: commit sequences dispatched in the order %v", id, seqs)
					}
				}
			}
			for _, want := range []string{"in the background", "redispatch at start: progress", "scheduled=1000", "redispatch at start done", "stored_meanwhile=10"} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the logs lack %q:\n%s", want, logs)
				}
			}
		})
	}
}

// Close during the catch-up returns once its context is done, without
// waiting for the backlog, and says the queue was not drained.
func TestCloseDuringBacklog(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(map[bool]string{false: "sync", true: "async"}[async], func(t *testing.T) {
			ctx := context.Background()
			engine := memory.New()
			crashed, err := eventstore.Wireup().UsingPersistence(engine).Build(ctx)
			if err != nil {
				t.Fatal(err)
			}
			leaveBacklog(t, crashed, 10, 100)
			g := dispatchtest.NewGated()
			t.Cleanup(g.Open)
			w := eventstore.Wireup().UsingPersistence(engine).DispatchWith(g)
			if async {
				w = w.UsingAsyncDispatch()
			}
			s, err := w.Build(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for g.Calls.Load() == 0 { // the catch-up is under way
				time.Sleep(time.Millisecond)
			}
			cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if err := s.Close(cctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Close during the backlog: %v, want a context.DeadlineExceeded (not drained)", err)
			}
			if n := g.Delivered(); n != 0 {
				t.Fatalf("%d commits dispatched past the gate", n)
			}
			if err := s.Close(ctx); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

// While the catch-up runs, the commits stored meanwhile wait in memory up to
// the queue size; past it, CommitChanges waits for room, as with a full
// queue, until its context is done (the commit is stored, and stays
// undispatched).
func TestCatchUpBackpressure(t *testing.T) {
	ctx := context.Background()
	engine := memory.New()
	crashed, err := eventstore.Wireup().UsingPersistence(engine).Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := leaveBacklog(t, crashed, 1, 100)["backlog-0"]
	g := dispatchtest.NewGated()
	t.Cleanup(g.Open)
	const queue = 4
	s := build(t, eventstore.Wireup().UsingPersistence(engine).UsingAsyncDispatch().DispatchQueueSize(queue).DispatchWith(g))
	for range queue { // deferred: room for the queue size
		c, err := s.Append(ctx, "backlog-0", last.Position(), eventstore.NewCommitID(), ev("new")...)
		if err != nil {
			t.Fatal(err)
		}
		last = c
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.Append(short, "backlog-0", last.Position(), eventstore.NewCommitID(), ev("one too many")...); err != nil {
		t.Fatalf("Append past the room: %v (the commit is stored; only its dispatch waits)", err)
	}
	if short.Err() == nil {
		t.Fatal("Append past the room returned before its context was done: it did not wait")
	}
	g.Open()
	if _, err := s.Redispatch(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// The one that could not wait was left undispatched; Redispatch, after
	// the catch-up, dispatched it.
	if n := g.Delivered(); n != 100+queue+1 {
		t.Fatalf("%d dispatched, want %d, each once", n, 100+queue+1)
	}
}

// A dispatcher that commits to the store (an echo per commit) does not
// deadlock the catch-up, with either scheduler: its commits, stored during
// the catch-up, are dispatched after it.
func TestCatchUpReentrantDispatcher(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(map[bool]string{false: "sync", true: "async"}[async], func(t *testing.T) {
			ctx := context.Background()
			engine := memory.New()
			crashed, err := eventstore.Wireup().UsingPersistence(engine).Build(ctx)
			if err != nil {
				t.Fatal(err)
			}
			leaveBacklog(t, crashed, 2, 20)
			var s *eventstore.Store
			ready := make(chan struct{})
			var mu sync.Mutex
			echoes := 0
			w := eventstore.Wireup().UsingPersistence(engine).DispatchTo(func(ctx context.Context, c eventstore.Commit) error {
				<-ready
				if strings.HasPrefix(c.StreamID, "echo-") {
					mu.Lock()
					echoes++
					mu.Unlock()
					return nil
				}
				_, err := s.Append(ctx, "echo-"+c.CommitID.String(), eventstore.NoStream, eventstore.NewCommitID(), ev("echo")...)
				return err
			})
			if async {
				w = w.UsingAsyncDispatch()
			}
			s = build(t, w)
			close(ready)
			if _, err := s.Redispatch(ctx); err != nil {
				t.Fatal(err)
			}
			drained(t, s) // before Close, after which the echoes could not be stored
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if echoes != 40 {
				t.Fatalf("%d echoes dispatched, want 40", echoes)
			}
		})
	}
}

// buildHeld builds w while its dispatcher holds every commit: Build must
// return anyway (the bound only turns a hang into a failure).
func buildHeld(t *testing.T, w *eventstore.Builder) *eventstore.Store {
	t.Helper()
	built := make(chan *eventstore.Store, 1)
	go func() {
		s, err := w.Build(context.Background())
		if err != nil {
			t.Error(err)
		}
		built <- s
	}()
	select {
	case s := <-built:
		if s == nil {
			t.FailNow()
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		return s
	case <-time.After(time.Minute):
		t.Fatal("Build did not return while the dispatcher held the backlog: it waits for the backlog to be dispatched")
		return nil
	}
}
