package crashtest

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
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// backlogStreams is how many streams hold TestBacklog's backlog.
const backlogStreams = 40

// TestBacklog: on a real server, with thousands of commits (see engines) an earlier run
// left undispatched, Build returns while the dispatcher has seen none of
// them (it holds the first ones until released); Close during that
// catch-up returns once its context is done and loses nothing: a fresh
// store, built while the backlog is still held, then dispatches every
// commit, the ones stored during both catch-ups included, each once and in
// order per stream, with progress in its logs.
func TestBacklog(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			backlog(t, testserver.Get(t, eng.kind).Isolated(t), eng.backlog/backlogStreams)
		})
	}
}

func backlog(t *testing.T, url string, backlogPerStream int) {
	ctx := context.Background()
	total := backlogStreams * backlogPerStream
	start := time.Now()

	// A run that stored the backlog and crashed before dispatching it.
	crashed, err := eventstore.Wireup().UsingURL(url).Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := make([]eventstore.Position, backlogStreams)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range backlogPerStream {
				for j := w; j < backlogStreams; j += 8 {
					c, err := crashed.Append(ctx, stream(j), last[j], eventstore.NewCommitID(), eventstore.EventMessage{Body: fmt.Sprint(i)})
					if err != nil {
						errs <- err
						return
					}
					last[j] = c.Position()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := crashed.Close(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d commits stored in %v", total, time.Since(start).Round(time.Millisecond))

	// A store whose catch-up is held by its dispatcher, closed mid-way.
	first := dispatchtest.NewGated()
	defer first.Open()
	s1 := buildHeld(t, eventstore.Wireup().UsingURL(url).UsingAsyncDispatch().DispatchQueueSize(64).DispatchWith(first))
	if n := first.Calls.Load(); n >= int64(total) {
		t.Fatalf("Build returned after the dispatcher saw %d of %d commits", n, total)
	}
	const added = 5
	addCommits(t, s1, last, 0, added)
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if err := s1.Close(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close during the backlog: %v, want a context.DeadlineExceeded (not drained)", err)
	}
	if n := first.Delivered(); n != 0 {
		t.Fatalf("%d commits went past the held dispatcher", n)
	}

	// A fresh store: Build returns at once again, then dispatches all.
	second := dispatchtest.NewGated()
	defer second.Open()
	logs := &dispatchtest.LogBuffer{}
	s2 := buildHeld(t, eventstore.Wireup().UsingURL(url).UsingAsyncDispatch().DispatchWorkers(4).DispatchQueueSize(64).DispatchWith(second).
		LogTo(slog.New(slog.NewTextHandler(logs, nil))))
	defer s2.Close(ctx)
	if n := second.Calls.Load(); n >= int64(total) {
		t.Fatalf("Build (second) returned after the dispatcher saw %d of %d commits", n, total)
	}
	addCommits(t, s2, last, added, 2*added)
	second.Open()
	start = time.Now()
	if _, err := s2.Redispatch(ctx); err != nil { // waits for Build's
		t.Fatal(err)
	}
	t.Logf("catch-up scheduled in %v", time.Since(start).Round(time.Millisecond))
	cctx, cancel = context.WithTimeout(ctx, 2*time.Minute) // a bound, not a speed check
	defer cancel()
	if err := s2.Close(cctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("dispatched and marked in %v", time.Since(start).Round(time.Millisecond))
	e, err := persistence.OpenURL(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if n := count(t, e.Undispatched(ctx)); n != 0 {
		t.Fatalf("%d commits left undispatched", n)
	}
	if n := second.Delivered(); n != total+2*added {
		t.Fatalf("%d deliveries, want %d (each commit once)", n, total+2*added)
	}
	for j := range backlogStreams {
		want := backlogPerStream
		if j < 2*added {
			want++
		}
		seqs := second.Sequences(stream(j))
		if len(seqs) != want {
			t.Fatalf("stream %s: %d commits dispatched, want %d", stream(j), len(seqs), want)
		}
		for i, seq := range seqs {
			if seq != i+1 {
				t.Fatalf("stream %s: commit sequences dispatched in the order %v", stream(j), seqs)
			}
		}
	}
	wants := []string{"in the background", "redispatch at start done", fmt.Sprintf("stored_meanwhile=%d", added)}
	if total >= 1000 {
		wants = append(wants, "redispatch at start: progress", "scheduled=1000")
	}
	for _, want := range wants {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the logs lack %q:\n%s", want, logs)
		}
	}
}

func stream(j int) string { return fmt.Sprintf("backlog-%d", j) }

// addCommits appends one commit to each backlog stream from..to-1.
func addCommits(t *testing.T, s *eventstore.Store, last []eventstore.Position, from, to int) {
	t.Helper()
	for j := from; j < to; j++ {
		c, err := s.Append(context.Background(), stream(j), last[j], eventstore.NewCommitID(), eventstore.EventMessage{Body: "new"})
		if err != nil {
			t.Fatal(err)
		}
		last[j] = c.Position()
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
		return s
	case <-time.After(time.Minute):
		t.Fatal("Build did not return while the dispatcher held the backlog: it waits for the backlog to be dispatched")
		return nil
	}
}
