package eventstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// flaky is a dispatcher that fails while down is set, and reports each
// commit it accepts on ok.
type flaky struct {
	down     atomic.Bool
	failures atomic.Int64
	mu       sync.Mutex
	accepted []string
	ok       chan string
}

func newFlaky() *flaky {
	f := &flaky{ok: make(chan string, 16)}
	f.down.Store(true)
	return f
}

func (f *flaky) Dispatch(ctx context.Context, c eventstore.Commit) error {
	if f.down.Load() {
		f.failures.Add(1)
		return errors.New("bus down")
	}
	f.mu.Lock()
	f.accepted = append(f.accepted, c.Events[0].Body.(string))
	f.mu.Unlock()
	f.ok <- c.Events[0].Body.(string)
	return nil
}

// waitFor receives the next accepted commit; the long timeout only keeps a
// broken sweep from hanging the test.
func (f *flaky) waitFor(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-f.ok:
		if got != want {
			t.Fatalf("dispatched %q, want %q", got, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%q never dispatched", want)
	}
}

// drained waits until the engine holds no undispatched commit (the last
// one is marked just after it is dispatched).
func drained(t *testing.T, s *eventstore.Store) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); undispatched(t, s) > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d commits still undispatched", undispatched(t, s))
		}
	}
}

func undispatched(t *testing.T, s *eventstore.Store) int {
	t.Helper()
	n := 0
	for _, err := range s.Engine().Undispatched(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// A dead-lettered commit is dispatched by the periodic sweep once the
// dispatcher works again, without a restart, with either scheduler and with
// a scheduler given to New.
func TestSweepRedispatchesDeadLetters(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{"sync", "async", "new"} {
		t.Run(mode, func(t *testing.T) {
			f := newFlaky()
			dead := make(chan struct{}, 16)
			deadLetter := func(context.Context, eventstore.Commit, error) { dead <- struct{}{} }
			var s *eventstore.Store
			if mode == "new" {
				engine := memory.New()
				if err := engine.Initialize(ctx); err != nil {
					t.Fatal(err)
				}
				s = eventstore.New(engine, eventstore.Options{Dispatcher: f, AsyncDispatch: true,
					Dispatch:        eventstore.DispatchOptions{MaxAttempts: 1, DeadLetter: deadLetter},
					RedispatchEvery: 5 * time.Millisecond})
				t.Cleanup(func() { s.Close(ctx) })
			} else {
				w := eventstore.Wireup().DispatchWith(f).DispatchMaxAttempts(1).DeadLetterTo(deadLetter).
					RedispatchEvery(5 * time.Millisecond)
				if mode == "async" {
					w = w.UsingAsyncDispatch()
				}
				s = build(t, w)
			}
			c, err := s.Append(ctx, "s", eventstore.NoStream, eventstore.NewCommitID(), ev("a")...)
			if err != nil {
				t.Fatal(err)
			}
			<-dead
			f.down.Store(false)
			f.waitFor(t, "a")
			if _, err := s.Append(ctx, "s", c.Position(), eventstore.NewCommitID(), ev("b")...); err != nil {
				t.Fatal(err)
			}
			f.waitFor(t, "b")
			drained(t, s)
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if f.failures.Load() == 0 {
				t.Fatal("the dispatcher never failed")
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.accepted) != 2 {
				t.Fatalf("accepted %v, want [a b] (each once)", f.accepted)
			}
		})
	}
}

// Redispatch dispatches what an earlier run left, for a store made with
// New, and only once.
func TestRedispatch(t *testing.T) {
	ctx := context.Background()
	engine := memory.New()
	if err := engine.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	first := eventstore.New(engine, eventstore.Options{})
	if n, err := first.Redispatch(ctx); n != 0 || err != nil {
		t.Fatalf("Redispatch without a scheduler: %d, %v", n, err)
	}
	for _, b := range []string{"a", "b"} {
		if _, err := first.Append(ctx, b, eventstore.NoStream, eventstore.NewCommitID(), ev(b)...); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	s := eventstore.New(engine, eventstore.Options{Dispatcher: eventstore.DispatcherFunc(func(ctx context.Context, c eventstore.Commit) error {
		got = append(got, c.Events[0].Body.(string))
		return nil
	}), RedispatchEvery: -1})
	n, err := s.Redispatch(ctx)
	if err != nil || n != 2 || len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("Redispatch: %d, %v; dispatched %v", n, err, got)
	}
	if n, err := s.Redispatch(ctx); n != 0 || err != nil {
		t.Fatalf("second Redispatch: %d, %v", n, err)
	}
	s.Close(ctx)
	if _, err := s.Redispatch(ctx); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Redispatch after Close: %v", err)
	}
}

// Redispatch leaves alone a commit the store is dispatching.
func TestRedispatchSkipsInFlight(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	var calls atomic.Int64
	s := build(t, eventstore.Wireup().UsingAsyncDispatch().RedispatchEvery(0).
		DispatchTo(func(ctx context.Context, c eventstore.Commit) error {
			calls.Add(1)
			<-release
			return nil
		}))
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // runs before build's Close, also when the test fails
	for _, b := range []string{"a", "b"} {
		if _, err := s.Append(ctx, "s"+b, eventstore.NoStream, eventstore.NewCommitID(), ev(b)...); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Redispatch(ctx); n != 0 || err != nil {
		t.Fatalf("Redispatch while both are queued or dispatching: %d, %v", n, err)
	}
	unblock()
	drained(t, s)
	if n, err := s.Redispatch(ctx); n != 0 || err != nil {
		t.Fatalf("Redispatch once both are dispatched: %d, %v", n, err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Fatalf("%d dispatches, want 2", calls.Load())
	}
}

func TestRedispatchEveryOptions(t *testing.T) {
	ctx := context.Background()
	_, err := eventstore.Wireup().RedispatchEvery(time.Second).Build(ctx)
	if err == nil {
		t.Fatal("RedispatchEvery without a dispatcher: no error")
	}
	_, err = eventstore.Wireup().DispatchTo(func(context.Context, eventstore.Commit) error { return nil }).RedispatchEvery(-time.Second).Build(ctx)
	if err == nil {
		t.Fatal("negative RedispatchEvery: no error")
	}
}
