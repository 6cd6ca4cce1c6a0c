package mongo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// TestServerDown stops the server under an open engine: every call fails
// with ErrStorageUnavailable and stores nothing, and the same engine works
// again once the server is back.
func TestServerDown(t *testing.T) {
	ctx := context.Background()
	srv := testserver.Dedicated(t, testserver.Mongo)
	e := openEngine(t, srv.Isolated(t), nil) // server selection times out after 2 s
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
		t.Fatal(err)
	}

	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	down := attempt("b", "s", 2)
	_, err := e.Commit(ctx, down)
	var se *persistence.StreamError
	if !errors.Is(err, persistence.ErrStorageUnavailable) || !errors.As(err, &se) || se.StreamID != "s" {
		t.Fatalf("Commit with the server down: %v; want ErrStorageUnavailable naming the stream", err)
	}
	for name, seq := range map[string]func() error{
		"ReadAll":    func() error { return firstErr(e.ReadAll(ctx, 0)) },
		"ReadStream": func() error { return firstErr(e.ReadStream(ctx, "b", "s", 0, 0)) },
		"Undispatched": func() error {
			return firstErr(e.Undispatched(ctx))
		},
		"LatestSnapshot": func() error {
			_, err := e.LatestSnapshot(ctx, "b", "s", 0)
			return err
		},
		"Initialize": func() error { return e.Initialize(ctx) },
	} {
		if err := seq(); !errors.Is(err, persistence.ErrStorageUnavailable) {
			t.Errorf("%s with the server down: %v; want ErrStorageUnavailable", name, err)
		}
	}

	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// The failed commit left nothing behind.
	var seqs []int
	for c, err := range e.ReadStream(ctx, "b", "s", 0, 0) {
		if err != nil {
			t.Fatalf("ReadStream after restart: %v", err)
		}
		seqs = append(seqs, c.CommitSequence)
	}
	if len(seqs) != 1 || seqs[0] != 1 {
		t.Fatalf("after the outage the stream holds commit sequences %v, want [1]", seqs)
	}
	// The same engine stores the retried commit.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := e.Commit(ctx, down)
		if err == nil {
			break
		}
		if !errors.Is(err, persistence.ErrStorageUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Commit after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	n := 0
	for _, err := range e.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("ReadAll after recovery yielded %d commits, want 2", n)
	}
}

// firstErr ranges over seq and returns its first error.
func firstErr[T any](seq func(func(T, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}
