package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// TestDecoded checks that the engine keeps CommitAttempt.Decoded and hands
// it back on every read.
func TestDecoded(t *testing.T) {
	ctx := context.Background()
	e := memory.New()
	type events struct{ N int }
	a := attempt("b", "s", 1, 1)
	a.Decoded = &events{N: 7}
	c, err := e.Commit(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if c.Decoded != a.Decoded {
		t.Errorf("Commit returned Decoded %v, want %v", c.Decoded, a.Decoded)
	}
	reads := map[string]func(func(persistence.Commit, error) bool){
		"ReadStream":   e.ReadStream(ctx, "b", "s", 0, 0),
		"ReadAll":      e.ReadAll(ctx, 0),
		"ReadBucket":   e.ReadBucket(ctx, "b", 0),
		"Undispatched": e.Undispatched(ctx),
	}
	for name, seq := range reads {
		n := 0
		for got, err := range seq {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			n++
			if got.Decoded != a.Decoded {
				t.Errorf("%s returned Decoded %v, want the committed %v", name, got.Decoded, a.Decoded)
			}
		}
		if n != 1 {
			t.Errorf("%s yielded %d commits, want 1", name, n)
		}
	}
}

// TestOpen checks the registered opener and the data sources it accepts.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	for _, ds := range []string{"memory://", "memory:", "memory://?page_size=3"} {
		e, err := persistence.OpenURL(ctx, ds)
		if err != nil {
			t.Errorf("OpenURL(%q): %v", ds, err)
			continue
		}
		if _, ok := e.(*memory.Engine); !ok {
			t.Errorf("OpenURL(%q) returned a %T", ds, e)
		}
	}
	if _, err := persistence.Open(ctx, "memory", ""); err != nil {
		t.Errorf(`Open("memory", ""): %v`, err)
	}
	for _, ds := range []string{"memory://host/db", "memory://?page_size=0", "memory://?size=3"} {
		if _, err := persistence.OpenURL(ctx, ds); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("OpenURL(%q) = %v, want ErrInvalid", ds, err)
		}
	}
	// Two engines opened alike share nothing.
	e1, _ := persistence.OpenURL(ctx, "memory://")
	e2, _ := persistence.OpenURL(ctx, "memory://")
	if _, err := e1.Commit(ctx, attempt("b", "s", 1, 1)); err != nil {
		t.Fatal(err)
	}
	for range e2.ReadAll(ctx, 0) {
		t.Fatal("a second engine sees the first one's commit")
	}
}

// TestAcceptance runs the shared engine suite with a page size of 3, so that
// every multi-commit read crosses pages.
func TestAcceptance(t *testing.T) {
	acceptance.Run(t, acceptance.Harness{
		New: func(ctx context.Context, t *testing.T) (persistence.Engine, error) {
			return memory.New(memory.WithPageSize(3)), nil
		},
		PageSize: 3,
	})
}
