package mysql

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// The server goes away and comes back: while it is down every call fails
// with ErrStorageUnavailable and stores nothing; once it is back the same
// engine works again, without being reopened.
func TestServerOutage(t *testing.T) {
	ctx := context.Background()
	srv := testserver.Dedicated(t, testserver.MySQL)
	e := openIsolated(t, srv.Isolated(t)+"?timeout=2s&readTimeout=10s&writeTimeout=10s")
	first, err := e.Commit(ctx, attempt("b", "s", 1))
	if err != nil {
		t.Fatal(err)
	}
	// Warm the pool: several connections with the statements prepared on them.
	for range 3 {
		readStream(t, e, "b", "s")
	}

	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	down := attempt("b", "s", 2)
	if _, err := e.Commit(ctx, down); !errors.Is(err, persistence.ErrStorageUnavailable) {
		t.Fatalf("Commit while the server is down: %v, want ErrStorageUnavailable", err)
	}
	for _, err := range e.ReadAll(ctx, 0) {
		if !errors.Is(err, persistence.ErrStorageUnavailable) {
			t.Fatalf("ReadAll while the server is down: %v, want ErrStorageUnavailable", err)
		}
	}
	if _, err := e.LatestSnapshot(ctx, "b", "s", 0); !errors.Is(err, persistence.ErrStorageUnavailable) {
		t.Fatalf("LatestSnapshot while the server is down: %v, want ErrStorageUnavailable", err)
	}

	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// The server may take a moment to accept connections again.
	deadline := time.Now().Add(2 * time.Minute)
	var got []persistence.Commit
	for {
		var err error
		got, err = tryReadStream(ctx, e, "b", "s")
		if err == nil {
			break
		}
		if !errors.Is(err, persistence.ErrStorageUnavailable) || time.Now().After(deadline) {
			t.Fatalf("ReadStream after the restart: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The commit that failed left nothing behind.
	if len(got) != 1 || got[0].CommitID != first.CommitID {
		t.Fatalf("after the restart the stream holds %d commits, want only the one stored before", len(got))
	}
	// The same engine, the same attempt: stored now.
	c, err := e.Commit(ctx, down)
	if err != nil {
		t.Fatalf("Commit after the restart: %v", err)
	}
	if c.Checkpoint <= first.Checkpoint {
		t.Fatalf("checkpoint %d after %d", c.Checkpoint, first.Checkpoint)
	}
	var all []int64
	for c, err := range e.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, c.Checkpoint)
	}
	if len(all) != 2 {
		t.Fatalf("ReadAll after the restart: %v", all)
	}
}

func tryReadStream(ctx context.Context, e *Engine, bucket, stream string) ([]persistence.Commit, error) {
	var out []persistence.Commit
	for c, err := range e.ReadStream(ctx, bucket, stream, 0, 0) {
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
