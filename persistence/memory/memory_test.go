package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// TestValue checks that the engine keeps the value given to CommitValue and
// hands it back in Commit.Value on every read, and that Commit keeps none.
func TestValue(t *testing.T) {
	ctx := context.Background()
	e := memory.New()
	if !e.Supports(persistence.InProcessValue) {
		t.Fatal("the memory engine does not claim InProcessValue")
	}
	type events struct{ N int }
	v := &events{N: 7}
	c, err := e.CommitValue(ctx, attempt("b", "s", 1, 1), v)
	if err != nil {
		t.Fatal(err)
	}
	if c.Value != v {
		t.Errorf("CommitValue returned Value %v, want %v", c.Value, v)
	}
	if c, err := e.Commit(ctx, attempt("b", "s", 2, 1)); err != nil || c.Value != nil {
		t.Errorf("Commit returned Value %v (error %v), want nil", c.Value, err)
	}
	reads := map[string]func(func(persistence.Commit, error) bool){
		"ReadStream":   e.ReadStream(ctx, "b", "s", 0, 0),
		"ReadAll":      e.ReadAll(ctx, 0),
		"ReadBucket":   e.ReadBucket(ctx, "b", 0),
		"Undispatched": e.Undispatched(ctx),
	}
	for name, seq := range reads {
		var got []any
		for c, err := range seq {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got = append(got, c.Value)
		}
		if len(got) != 2 || got[0] != v || got[1] != nil {
			t.Errorf("%s returned values %v, want [%v <nil>]", name, got, v)
		}
	}
}

// TestKeepValuesFalse checks that WithKeepValues(false) keeps no value, as
// engines that store bytes do.
func TestKeepValuesFalse(t *testing.T) {
	ctx := context.Background()
	for name, e := range map[string]*persistence.Engine{
		"New":  memory.New(memory.WithKeepValues(false)),
		"URL":  must(memory.Open(ctx, "memory://?keep_values=false")),
		"code": must(memory.Open(ctx, "memory://?keep_values=true", memory.WithKeepValues(false))),
	} {
		if e.Supports(persistence.InProcessValue) {
			t.Errorf("%s: claims InProcessValue", name)
		}
		c, err := e.CommitValue(ctx, attempt("b", "s", 1, 1), "value")
		if err != nil || c.Value != nil {
			t.Errorf("%s: CommitValue returned Value %v (error %v), want nil", name, c.Value, err)
		}
		for c, err := range e.ReadAll(ctx, 0) {
			if err != nil || c.Value != nil {
				t.Errorf("%s: ReadAll returned Value %v (error %v), want nil", name, c.Value, err)
			}
		}
	}
	if _, err := memory.Open(ctx, "memory://?keep_values=maybe"); !errors.Is(err, persistence.ErrInvalid) {
		t.Errorf("keep_values=maybe: %v, want ErrInvalid", err)
	}
	if !must(memory.Open(ctx, "memory://?keep_values=true")).Supports(persistence.InProcessValue) {
		t.Error("keep_values=true does not keep values")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestOpen checks the registered opener and the data sources it accepts.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	for ds, page := range map[string]int{
		"memory://": persistence.DefaultPageSize, "memory:": persistence.DefaultPageSize, "memory:///": persistence.DefaultPageSize,
		"memory://?page_size=3": 3, "memory://?page_size=3&op_timeout=2s": 3,
	} {
		e, err := persistence.OpenURL(ctx, ds)
		if err != nil {
			t.Errorf("OpenURL(%q): %v", ds, err)
			continue
		}
		if e.Name() != "memory" || e.Settings().PageSize != page {
			t.Errorf("OpenURL(%q) opened %q with page size %d, want memory with %d", ds, e.Name(), e.Settings().PageSize, page)
		}
	}
	if e, err := persistence.Open(ctx, "memory", ""); err != nil || e.Name() != "memory" {
		t.Errorf(`Open("memory", "") = %v, %v`, e, err)
	}
	// Options given in code win over the URL's.
	if e, err := memory.Open(ctx, "memory://?page_size=3", persistence.WithPageSize(5)); err != nil || e.Settings().PageSize != 5 {
		t.Errorf("Open with a page size in the URL and in code: %v, %v", e, err)
	}
	for _, ds := range []string{"memory://host/db", "memory://?page_size=0", "memory://?size=3", "memory://user@", "mysql://"} {
		if _, err := memory.Open(ctx, ds); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", ds, err)
		}
	}
	if _, err := memory.Open(ctx, "", persistence.WithPageSize(-1)); !errors.Is(err, persistence.ErrInvalid) {
		t.Errorf("Open with a negative page size: %v, want ErrInvalid", err)
	}
	// New takes any value: below 1 means the default.
	if e := memory.New(persistence.WithPageSize(-1), persistence.WithTimeout(-1)); e.Settings().PageSize != persistence.DefaultPageSize || e.Settings().Timeout != persistence.DefaultTimeout {
		t.Errorf("New with negative settings: %+v, want the defaults", e.Settings())
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

// TestCapabilities checks that the engine claims every capability.
func TestCapabilities(t *testing.T) {
	e := memory.New()
	for _, c := range []persistence.Capability{persistence.Snapshots, persistence.Dispatch, persistence.Delete,
		persistence.Purge, persistence.Drop, persistence.Head, persistence.InProcessValue} {
		if !e.Supports(c) {
			t.Errorf("the memory engine lacks %s", c)
		}
	}
}

// TestHead checks Head across deletions and purges: the greatest live
// checkpoint, while checkpoints themselves are never reused.
func TestHead(t *testing.T) {
	ctx := context.Background()
	e := memory.New()
	head := func(want int64) {
		t.Helper()
		if got, err := e.Head(ctx); err != nil || got != want {
			t.Errorf("Head = %d, %v; want %d", got, err, want)
		}
	}
	head(0)
	for i := range 3000 { // three log chunks
		if _, err := e.Commit(ctx, attempt("b", "s"+string(rune('a'+i%2)), i/2+1, 1)); err != nil {
			t.Fatal(err)
		}
	}
	head(3000)
	if err := e.DeleteStream(ctx, "b", "sb"); err != nil { // the even checkpoints
		t.Fatal(err)
	}
	head(2999)
	if err := e.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	head(0)
	c, err := e.Commit(ctx, attempt("b", "s", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if c.Checkpoint != 3001 {
		t.Errorf("first checkpoint after Purge: %d, want 3001", c.Checkpoint)
	}
	head(3001)
	if err := e.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := e.Commit(ctx, attempt("b", "s", 1, 1)); err != nil || c.Checkpoint != 1 {
		t.Errorf("first checkpoint after Drop: %d, %v; want 1", c.Checkpoint, err)
	}
}
