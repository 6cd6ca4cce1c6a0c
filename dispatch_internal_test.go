package eventstore

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence/memory"
)

// dispatchOptions must carry over every dispatch option: a field added to
// dispatcher.Options and forgotten there would be silently ignored.
func TestDispatchOptionsCarriesEveryField(t *testing.T) {
	var dead []Commit
	opts := DispatchOptions{
		Key:                 func(Commit) string { return "k" },
		MarkDispatched:      func(context.Context, Commit) error { return nil },
		MarkDispatchedBatch: func(context.Context, []Commit) error { return nil },
		MaxAttempts:         3,
		InitialBackoff:      time.Millisecond,
		MaxBackoff:          time.Second,
		DeadLetter:          func(_ context.Context, c Commit, _ error) { dead = append(dead, c) },
		QueueSize:           7,
		Workers:             2,
		Logger:              slog.New(slog.DiscardHandler),
	}
	in := reflect.ValueOf(opts)
	for i := range in.NumField() {
		if in.Field(i).IsZero() {
			t.Fatalf("test is out of date: DispatchOptions.%s is not set", in.Type().Field(i).Name)
		}
	}
	s := New(memory.New(), Options{Dispatcher: DispatcherFunc(func(context.Context, Commit) error { return nil })})
	defer s.Close(context.Background())
	got := s.dispatchOptions(opts)
	out := reflect.ValueOf(got)
	for i := range out.NumField() {
		if out.Field(i).IsZero() {
			t.Errorf("dispatchOptions dropped %s", out.Type().Field(i).Name)
		}
	}
	c := &Commit{CommitAttempt: CommitAttempt{BucketID: "b", StreamID: "s"}}
	if k := got.Key(c); k != "b\x00s" {
		t.Errorf("Key = %q, want the store's per-stream key", k)
	}
	got.DeadLetter(context.Background(), c, nil)
	if len(dead) != 1 || dead[0].StreamID != "s" {
		t.Errorf("DeadLetter reached the caller's hook with %v", dead)
	}
}
