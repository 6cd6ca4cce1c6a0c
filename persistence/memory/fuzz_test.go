package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// FuzzOpen opens the memory engine with arbitrary data sources: a
// validation error or an engine that works, never a panic. Its seed corpus
// is under testdata/fuzz, so that go test runs it.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{"", "memory://", "memory:", "memory:///", "memory://?keep_values=false", "memory://?page_size=1",
		"memory://host", "memory://u@/", "memory://#x", "memory://?nope=1", "mysql://x", "memory://?keep_values=maybe",
		"memory://?page_size=9223372036854775807", "memory:opaque", "%", "memory://?op_timeout=1ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ds string) {
		ctx := context.Background()
		e, err := memory.Open(ctx, ds)
		if err != nil {
			if !errors.Is(err, persistence.ErrInvalid) {
				t.Fatalf("%q: %v", ds, err)
			}
			return
		}
		defer e.Close(ctx)
		if err := e.Initialize(ctx); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			_, err := e.Commit(ctx, &persistence.CommitAttempt{BucketID: "b", StreamID: "s", StreamRevision: i, CommitID: persistence.UUID{byte(i)},
				CommitSequence: i, CommitStamp: time.Unix(1, 0).UTC(), EventCount: 1, Payload: []byte("x")})
			if err != nil {
				if errors.Is(err, persistence.ErrStorageUnavailable) {
					return // an op_timeout of a nanosecond
				}
				t.Fatalf("%q: %v", ds, err)
			}
		}
		n := 0
		for _, err := range e.ReadAll(ctx, 0) {
			if err != nil {
				if errors.Is(err, persistence.ErrStorageUnavailable) {
					return
				}
				t.Fatalf("%q: %v", ds, err)
			}
			n++
		}
		if n != 3 {
			t.Fatalf("%q: read %d commits", ds, n)
		}
	})
}
