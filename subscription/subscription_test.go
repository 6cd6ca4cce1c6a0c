package subscription_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence/memory"
	"github.com/goeventstore/eventstore/subscription"
)

// memStore returns a store over a fresh in-memory engine.
func memStore(t *testing.T) *eventstore.Store {
	t.Helper()
	e := memory.New()
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := eventstore.New(e, eventstore.Options{})
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// commitN appends n one-event commits to stream of bucket and returns them.
func commitN(t testing.TB, s *eventstore.Store, bucket, stream string, n int) []*eventstore.Commit {
	t.Helper()
	var out []*eventstore.Commit
	for i := range n {
		c, err := s.Bucket(bucket).Append(context.Background(), stream, eventstore.AnyPosition, eventstore.NewCommitID(),
			eventstore.EventMessage{Body: map[string]any{"n": float64(i)}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// recorder is a handler that records what it finished.
type recorder struct {
	mu    sync.Mutex
	got   []int64
	pages []int
	more  chan struct{} // signalled after each page
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{}, 1000)} }

func (r *recorder) handle(ctx context.Context, page []eventstore.Commit) (int, error) {
	r.mu.Lock()
	for _, c := range page {
		r.got = append(r.got, c.Checkpoint)
	}
	r.pages = append(r.pages, len(page))
	r.mu.Unlock()
	r.more <- struct{}{}
	return len(page), nil
}

func (r *recorder) checkpoints() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.got...)
}

// waitFor waits until cond holds, failing the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func checkpointsOf(cs []*eventstore.Commit) []int64 {
	var out []int64
	for _, c := range cs {
		out = append(out, c.Checkpoint)
	}
	return out
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// start runs sub in the background from from; the returned function
// cancels it and returns Run's error.
func start(t *testing.T, sub *subscription.Subscription, from int64) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sub.Run(ctx, from) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// TestCatchUpThenWakeOnLocalCommit: a subscription started after a
// checkpoint hands over every later commit in checkpoint order, in pages of
// at most PageSize, and then, with a poll interval of an hour, still sees
// new commits of this process at once: the local commit wakes it.
func TestCatchUpThenWakeOnLocalCommit(t *testing.T) {
	s := memStore(t)
	first := commitN(t, s, "a", "s1", 25)
	rec := newRecorder()
	sub, err := subscription.New(s, rec.handle, subscription.Options{PageSize: 10, Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	from := first[4].Checkpoint
	stop := start(t, sub, from)
	want := checkpointsOf(first[5:])
	waitFor(t, "the catch-up", func() bool { return len(rec.checkpoints()) >= len(want) })
	waitFor(t, "caught up", func() bool { return sub.Progress().CaughtUp })
	if got := rec.checkpoints(); !equal(got, want) {
		t.Fatalf("caught up with %v, want %v", got, want)
	}
	rec.mu.Lock()
	for i, n := range rec.pages {
		if n > 10 || n == 0 {
			t.Errorf("page %d has %d commits, want 1 to 10", i, n)
		}
	}
	rec.mu.Unlock()
	late := commitN(t, s, "b", "s2", 3)
	want = append(want, checkpointsOf(late)...)
	waitFor(t, "the local commits, with an hour's poll (the wake-up)", func() bool { return len(rec.checkpoints()) >= len(want) })
	if got := rec.checkpoints(); !equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if p := sub.Position(); p != late[2].Checkpoint {
		t.Errorf("Position = %d, want %d", p, late[2].Checkpoint)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}

// TestPositionOnlyForFinishedCommits: a handler that finishes 3 commits of
// a page and fails moves the position to the third only; without Retry Run
// returns a *HandlerError naming the fourth, and a new run from the
// position hands the fourth first.
func TestPositionOnlyForFinishedCommits(t *testing.T) {
	s := memStore(t)
	cs := commitN(t, s, "a", "s", 8)
	boom := errors.New("projection database down")
	var reported []int64
	sub, err := subscription.New(s, func(ctx context.Context, page []eventstore.Commit) (int, error) {
		return 3, boom
	}, subscription.Options{PageSize: 5, OnProgress: func(p subscription.Progress) { reported = append(reported, p.Position) }})
	if err != nil {
		t.Fatal(err)
	}
	err = sub.Run(context.Background(), 0)
	var he *subscription.HandlerError
	if !errors.As(err, &he) || !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want a *HandlerError wrapping %v", err, boom)
	}
	if he.Commit.Checkpoint != cs[3].Checkpoint {
		t.Errorf("HandlerError names checkpoint %d, want %d (the first commit not finished)", he.Commit.Checkpoint, cs[3].Checkpoint)
	}
	if sub.Position() != cs[2].Checkpoint {
		t.Errorf("Position = %d, want %d (the third, last finished)", sub.Position(), cs[2].Checkpoint)
	}
	for _, p := range reported {
		if p > cs[2].Checkpoint {
			t.Errorf("OnProgress reported position %d, beyond the last finished commit %d", p, cs[2].Checkpoint)
		}
	}
	var got []int64
	sub2, _ := subscription.New(s, subscription.Each(func(ctx context.Context, c eventstore.Commit) error {
		got = append(got, c.Checkpoint)
		return nil
	}), subscription.Options{PageSize: 5, Poll: time.Hour})
	stop := start(t, sub2, sub.Position())
	waitFor(t, "the rest", func() bool { return sub2.Position() == cs[7].Checkpoint })
	stop()
	if !equal(got, checkpointsOf(cs[3:])) {
		t.Errorf("a run from the position got %v, want %v", got, checkpointsOf(cs[3:]))
	}
}

// TestHandlerRetry: with Retry, a failing handler is called again on the
// commits it did not finish (never on those it did), until it succeeds.
func TestHandlerRetry(t *testing.T) {
	s := memStore(t)
	cs := commitN(t, s, "a", "s", 6)
	var got []int64
	failures := 0
	var attempts []int
	sub, _ := subscription.New(s, subscription.Each(func(ctx context.Context, c eventstore.Commit) error {
		if c.Checkpoint == cs[3].Checkpoint && failures < 3 {
			failures++
			return fmt.Errorf("failure %d", failures)
		}
		got = append(got, c.Checkpoint)
		return nil
	}), subscription.Options{PageSize: 4, Poll: time.Hour, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		Retry: func(err error, attempt int) bool { attempts = append(attempts, attempt); return true }})
	stop := start(t, sub, 0)
	waitFor(t, "every commit", func() bool { return sub.Position() == cs[5].Checkpoint })
	stop()
	if !equal(got, checkpointsOf(cs)) {
		t.Errorf("handled %v, want each once, in order: %v", got, checkpointsOf(cs))
	}
	if fmt.Sprint(attempts) != "[1 2 3]" {
		t.Errorf("Retry saw attempts %v, want [1 2 3]", attempts)
	}
}

// TestBuckets: a subscription to some buckets sees only their commits, and
// its position still moves past the others.
func TestBuckets(t *testing.T) {
	for _, buckets := range [][]string{{"a"}, {"a", "c"}} {
		t.Run(fmt.Sprint(buckets), func(t *testing.T) {
			s := memStore(t)
			var want []int64
			for i := range 4 {
				for _, b := range []string{"a", "b", "c"} {
					c := commitN(t, s, b, "s", 1)[0]
					_ = i
					if b == "a" || (len(buckets) == 2 && b == "c") {
						want = append(want, c.Checkpoint)
					}
				}
			}
			rec := newRecorder()
			sub, _ := subscription.New(s, rec.handle, subscription.Options{Buckets: buckets, PageSize: 3, Poll: time.Hour})
			stop := start(t, sub, 0)
			waitFor(t, "caught up", func() bool { return sub.Progress().CaughtUp })
			stop()
			if got := rec.checkpoints(); !equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			if len(buckets) == 2 && sub.Position() != 12 {
				t.Errorf("Position = %d, want 12 (past the last commit read, of bucket b)", sub.Position())
			}
		})
	}
}

// TestLag: while the handler is behind, Progress says by how many
// checkpoints and how old the last finished commit is; once caught up both
// are zero.
func TestLag(t *testing.T) {
	s := memStore(t)
	cs := commitN(t, s, "a", "s", 10)
	release := make(chan struct{})
	var mu sync.Mutex
	var seen []subscription.Progress
	sub, _ := subscription.New(s, func(ctx context.Context, page []eventstore.Commit) (int, error) {
		if page[0].Checkpoint > cs[1].Checkpoint {
			<-release
		}
		return len(page), nil
	}, subscription.Options{PageSize: 2, Poll: time.Hour, OnProgress: func(p subscription.Progress) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
	}})
	stop := start(t, sub, 0)
	waitFor(t, "the first page", func() bool { return sub.Position() == cs[1].Checkpoint })
	p := sub.Progress()
	if p.CaughtUp || p.Head != cs[9].Checkpoint || p.Behind != cs[9].Checkpoint-cs[1].Checkpoint {
		t.Errorf("behind: Progress = %+v, want Head %d, Behind %d, not caught up", p, cs[9].Checkpoint, cs[9].Checkpoint-cs[1].Checkpoint)
	}
	if p.Delay <= 0 || p.Stamp != cs[1].CommitStamp {
		t.Errorf("behind: Delay %v, Stamp %v; want a positive delay since the stamp %v of the last finished commit", p.Delay, p.Stamp, cs[1].CommitStamp)
	}
	close(release)
	waitFor(t, "caught up", func() bool { return sub.Progress().CaughtUp })
	stop()
	p = sub.Progress()
	if p.Behind != 0 || p.Delay != 0 || p.Position != cs[9].Checkpoint {
		t.Errorf("caught up: Progress = %+v, want Position %d, no lag", p, cs[9].Checkpoint)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(seen); i++ {
		if seen[i].Position < seen[i-1].Position {
			t.Errorf("OnProgress went back from %d to %d", seen[i-1].Position, seen[i].Position)
		}
	}
}

// TestOptionsValidated: bad options are a *ValidationError naming the
// field, never a panic.
func TestOptionsValidated(t *testing.T) {
	s := memStore(t)
	h := subscription.Each(func(context.Context, eventstore.Commit) error { return nil })
	for name, o := range map[string]subscription.Options{
		"PageSize": {PageSize: -1}, "Poll": {Poll: -1}, "Buckets[1]": {Buckets: []string{"a", ""}},
	} {
		_, err := subscription.New(s, h, o)
		var ve *eventstore.ValidationError
		if !errors.As(err, &ve) || ve.Field != name {
			t.Errorf("New with bad %s = %v, want a *ValidationError naming it", name, err)
		}
	}
	if _, err := subscription.New(s, nil, subscription.Options{}); !errors.Is(err, eventstore.ErrInvalid) {
		t.Errorf("New with a nil handler = %v, want ErrInvalid", err)
	}
	sub, _ := subscription.New(s, h, subscription.Options{})
	if err := sub.Run(context.Background(), -1); !errors.Is(err, eventstore.ErrInvalid) {
		t.Errorf("Run from -1 = %v, want ErrInvalid", err)
	}
}
