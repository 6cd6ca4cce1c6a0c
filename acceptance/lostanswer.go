package acceptance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
)

// LostAnswer tells RunLostAnswer how to lose an engine's answers: a proxy
// between the driver and the server, or a wrapping transport, that lets
// requests reach the server but drops what comes back.
type LostAnswer struct {
	// New returns a new, NOT yet initialized engine whose traffic goes
	// through the fault. RunLostAnswer initializes it and closes it.
	New func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error)
	// Lose switches the loss of answers on or off.
	Lose func(lose bool)
}

// lostAnswerTimeout is the operation timeout RunLostAnswer configures.
const lostAnswerTimeout = 2 * time.Second

// RunLostAnswer checks the answer to "was it stored?" when the server
// applies a commit but its answer is lost: the commit fails with an error
// that matches ErrOutcomeUnknown (and ErrStorageUnavailable) within the
// operation timeout and a little slack, through the engine and through a
// store's CommitChanges; once answers flow again, retrying with the same
// commit ID resolves it (ErrDuplicateCommit if the write had landed,
// success if not), never a conflict, and the store holds each commit
// exactly once.
func RunLostAnswer(t *testing.T, l LostAnswer) {
	t.Helper()
	ctx := context.Background()
	e, err := l.New(ctx, t, persistence.WithTimeout(lostAnswerTimeout))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		l.Lose(false)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		e.Close(ctx)
	})
	if err := e.Initialize(ctx); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	f := &fixture{t: t, ctx: ctx, e: e, has: map[persistence.Capability]bool{}, stamp: time.Now().UTC().Truncate(time.Microsecond)}
	first := f.commit(f.attempt("b", "s", 1, 1, 1))

	// Through the engine.
	lost := f.attempt("b", "s", 2, 2, 1)
	l.Lose(true)
	start := time.Now()
	_, err = e.Commit(ctx, lost)
	took := time.Since(start)
	l.Lose(false)
	if !errors.Is(err, persistence.ErrOutcomeUnknown) || !errors.Is(err, persistence.ErrStorageUnavailable) {
		t.Fatalf("Commit whose answer was lost: %v; want ErrOutcomeUnknown and ErrStorageUnavailable", err)
	}
	if bound := lostAnswerTimeout + outageSlack; took > bound {
		t.Errorf("Commit whose answer was lost failed after %v, want within %v", took, bound)
	}
	t.Logf("Commit whose answer was lost failed after %v: %v", took.Round(time.Millisecond), err)
	resolve := func(what string, commit func() error) (landed bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := commit()
			switch {
			case err == nil:
				t.Logf("%s: the retry stored it (the write had not landed)", what)
				return false
			case errors.Is(err, persistence.ErrDuplicateCommit):
				t.Logf("%s: the retry answered ErrDuplicateCommit (the write had landed)", what)
				return true
			case errors.Is(err, persistence.ErrStorageUnavailable) && time.Now().Before(deadline):
				time.Sleep(50 * time.Millisecond)
			default:
				t.Fatalf("%s: retry with the same commit ID: %v; want success or ErrDuplicateCommit", what, err)
			}
		}
	}
	resolve("Commit", func() error { _, err := e.Commit(ctx, lost); return err })

	// Through a store, as an application sees it.
	s := eventstore.New(e, eventstore.Options{})
	st, err := s.OpenStream(ctx, "s2", 0, 0)
	if err != nil {
		t.Fatalf("OpenStream: %v", err)
	}
	st.Add(eventstore.EventMessage{Body: "lost"})
	id := eventstore.NewCommitID()
	l.Lose(true)
	_, err = st.CommitChanges(ctx, id)
	l.Lose(false)
	if !errors.Is(err, eventstore.ErrOutcomeUnknown) {
		t.Fatalf("CommitChanges whose answer was lost: %v; want ErrOutcomeUnknown", err)
	}
	resolve("CommitChanges", func() error { _, err := st.CommitChanges(ctx, id); return err })

	var got []persistence.Commit
	for c, err := range e.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatalf("ReadAll: %v", err)
		}
		got = append(got, c)
	}
	want := []persistence.UUID{first.CommitID, lost.CommitID, id}
	if len(got) != len(want) {
		t.Fatalf("the store holds %d commits, want %d: each exactly once", len(got), len(want))
	}
	for i, c := range got {
		if c.CommitID != want[i] {
			t.Errorf("commit %d is %s, want %s", i+1, c.CommitID, want[i])
		}
	}
}
