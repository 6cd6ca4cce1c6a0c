package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// kinds runs a behaviour both schedulers share against each of them. The
// returned scheduler is closed by the test; jitter, if set, replaces the
// random part of the backoff.
var kinds = []struct {
	name string
	new  func(d Dispatcher[item], o Options[item], jitter func(int64) int64) Scheduler[item]
}{
	{"Sync", func(d Dispatcher[item], o Options[item], j func(int64) int64) Scheduler[item] {
		s := NewSync(d, o)
		s.c.wait.jitter = j
		return s
	}},
	{"Async", func(d Dispatcher[item], o Options[item], j func(int64) int64) Scheduler[item] {
		a := NewAsync(d, o)
		a.c.wait.jitter = j
		return a
	}},
}

func TestRetryCountAndBackoffGrowth(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			r := newRecorder(t)
			var (
				mu    sync.Mutex
				times []time.Time
			)
			const failures = 4
			d := Func[item](func(_ context.Context, it item) error {
				mu.Lock()
				times = append(times, time.Now())
				n := len(times)
				mu.Unlock()
				if n <= failures {
					return fmt.Errorf("attempt %d: %w", n, errBoom)
				}
				r.success(it)
				return nil
			})
			o := r.options()
			o.MaxAttempts = failures + 1
			o.InitialBackoff = 2 * time.Millisecond
			o.MaxBackoff = 8 * time.Millisecond
			maxJitter := func(n int64) int64 { return n } // always wait the full ceiling
			s := k.new(d, o, maxJitter)
			if err := s.Schedule(context.Background(), item{"a", 1}); err != nil {
				t.Fatal(err)
			}
			closeOK(t, s)

			if len(times) != failures+1 {
				t.Fatalf("Dispatch called %d times, want %d", len(times), failures+1)
			}
			want := []time.Duration{2, 4, 8, 8} // doubling, capped at MaxBackoff
			for i, w := range want {
				if gap := times[i+1].Sub(times[i]); gap < w*time.Millisecond {
					t.Errorf("wait before attempt %d = %v, want at least %v", i+2, gap, w*time.Millisecond)
				}
			}
			if r.marked[item{"a", 1}] != 1 || len(r.dead) != 0 {
				t.Errorf("marked %v, dead-lettered %v; want marked once, no dead letter", r.marked, r.dead)
			}
		})
	}
}

func TestDeadLetterAfterMaxAttemptsWithoutMark(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			r := newRecorder(t)
			var calls atomic.Int32
			d := Func[item](func(_ context.Context, it item) error {
				if it.Key == "bad" {
					return fmt.Errorf("attempt %d: %w", calls.Add(1), errBoom)
				}
				r.success(it)
				return nil
			})
			o := r.options()
			o.MaxAttempts = 3
			s := k.new(d, o, nil)
			for _, it := range []item{{"bad", 1}, {"good", 1}} {
				if err := s.Schedule(context.Background(), it); err != nil {
					t.Fatalf("Schedule(%v) = %v; a dispatch failure must not reach the caller", it, err)
				}
			}
			closeOK(t, s)

			if n := calls.Load(); n != 3 {
				t.Errorf("Dispatch of the failing item called %d times, want MaxAttempts=3", n)
			}
			if len(r.dead) != 1 || r.dead[0] != (item{"bad", 1}) {
				t.Fatalf("dead letters = %v, want [{bad 1}]", r.dead)
			}
			if !errors.Is(r.deadErrs[0], errBoom) || !strings.Contains(r.deadErrs[0].Error(), "attempt 3") {
				t.Errorf("dead-letter error = %v, want the last attempt's error", r.deadErrs[0])
			}
			if r.marked[item{"bad", 1}] != 0 {
				t.Error("a dead-lettered item was marked dispatched")
			}
			if r.marked[item{"good", 1}] != 1 {
				t.Error("the item after the dead letter was not dispatched and marked")
			}
		})
	}
}

func TestPanicIsRecoveredAndRetried(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			r := newRecorder(t)
			var flaky atomic.Int32
			d := Func[item](func(_ context.Context, it item) error {
				switch {
				case it.Key == "always":
					panic("always panics")
				case it.Key == "once" && flaky.Add(1) == 1:
					panic(errBoom)
				}
				r.success(it)
				return nil
			})
			o := r.options()
			o.MaxAttempts = 2
			s := k.new(d, o, nil)
			for _, it := range []item{{"always", 1}, {"once", 1}, {"after", 1}} {
				if err := s.Schedule(context.Background(), it); err != nil {
					t.Fatal(err)
				}
			}
			closeOK(t, s)

			if len(r.dead) != 1 || r.dead[0].Key != "always" {
				t.Fatalf("dead letters = %v, want the always-panicking item", r.dead)
			}
			var pe *PanicError
			if !errors.As(r.deadErrs[0], &pe) || pe.Value != "always panics" || len(pe.Stack) == 0 {
				t.Errorf("dead-letter error = %#v, want a *PanicError with value and stack", r.deadErrs[0])
			}
			if r.marked[item{"once", 1}] != 1 || r.marked[item{"after", 1}] != 1 {
				t.Errorf("marked = %v; the retried panic and the next item must both be dispatched", r.marked)
			}
			if got := (&PanicError{Value: errBoom}); !errors.Is(got, errBoom) {
				t.Error("PanicError does not unwrap an error panic value")
			}
		})
	}
}

func TestMarkDispatchedFailureIsRetriedThenLeft(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			var dispatches, marks atomic.Int32
			d := Func[item](func(context.Context, item) error { dispatches.Add(1); return nil })
			o := Options[item]{
				MarkDispatched: func(context.Context, item) error { marks.Add(1); return errBoom },
				InitialBackoff: 10 * time.Microsecond,
			}
			s := k.new(d, o, nil)
			if err := s.Schedule(context.Background(), item{"a", 1}); err != nil {
				t.Fatalf("Schedule = %v; a mark failure must not reach the caller", err)
			}
			if err := s.Schedule(context.Background(), item{"a", 2}); err != nil {
				t.Fatal(err)
			}
			closeOK(t, s)
			if n := marks.Load(); n != 2*markAttempts {
				t.Errorf("MarkDispatched called %d times for 2 items, want %d", n, 2*markAttempts)
			}
			if n := dispatches.Load(); n != 2 {
				t.Errorf("Dispatch called %d times, want 2 (a mark failure does not redispatch)", n)
			}
		})
	}
}

func TestScheduleAfterCloseFails(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			var calls atomic.Int32
			s := k.new(Func[item](func(context.Context, item) error { calls.Add(1); return nil }), Options[item]{}, nil)
			closeOK(t, s)
			if err := s.Schedule(context.Background(), item{"a", 1}); !errors.Is(err, ErrClosed) {
				t.Errorf("Schedule after Close = %v, want ErrClosed", err)
			}
			closeOK(t, s) // a second Close is harmless
			if calls.Load() != 0 {
				t.Error("an item scheduled after Close was dispatched")
			}
		})
	}
}

func TestConstructorsRefuseNilDispatcherAndBadOptions(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	mustPanic("NewSync(nil)", func() { NewSync[item](nil, Options[item]{}) })
	mustPanic("NewAsync(nil)", func() { NewAsync[item](nil, Options[item]{}) })
	mustPanic("NewAsync(Workers: -1)", func() { NewAsync[item](Nop[item]{}, Options[item]{Workers: -1}) })

	bad := []Options[item]{
		{MaxAttempts: -1}, {InitialBackoff: -1}, {MaxBackoff: -1}, {QueueSize: -1}, {Workers: -1},
		{InitialBackoff: time.Second, MaxBackoff: time.Millisecond},
	}
	for _, o := range bad {
		if o.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", o)
		}
	}
	if err := (Options[item]{InitialBackoff: time.Minute}).Validate(); err != nil {
		t.Errorf("Validate with InitialBackoff above the default MaxBackoff = %v, want nil (MaxBackoff follows)", err)
	}
}
