// Package relaytest holds what the tests of the relay's publishers share:
// a store, a writer that commits while a relay runs, and checks.
package relaytest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence/memory"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/subscription"
)

// OrderPlaced is the event the tests commit.
type OrderPlaced struct {
	Order string `json:"order"`
	Total int    `json:"total"`
}

// Store returns a store over a fresh in-memory engine, with OrderPlaced
// registered.
func Store(t testing.TB) *eventstore.Store {
	t.Helper()
	e := memory.New()
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	types := eventstore.NewTypeRegistry()
	if err := types.Register("OrderPlaced", OrderPlaced{}); err != nil {
		t.Fatal(err)
	}
	s := eventstore.New(e, eventstore.Options{Serializer: eventstore.NewJSONSerializer(types)})
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// Commit appends one commit of one event to bucket/stream; it reports a
// failure with t.Error (it runs in writer goroutines) and returns nil.
func Commit(t testing.TB, s *eventstore.Store, bucket, stream string, body any) *eventstore.Commit {
	c, err := s.Bucket(bucket).Append(context.Background(), stream, eventstore.AnyPosition, eventstore.NewCommitID(),
		eventstore.EventMessage{Body: body, Headers: map[string]any{"user": "ann"}})
	if err != nil {
		t.Error(err)
		return nil
	}
	return c
}

// Writer commits n commits to random streams of two buckets in the
// background, pausing randomly; the returned function waits for it and
// returns the commits in checkpoint order.
func Writer(t testing.TB, s *eventstore.Store, n int) func() []*eventstore.Commit {
	done := make(chan []*eventstore.Commit, 1)
	go func() {
		var out []*eventstore.Commit
		for i := range n {
			c := Commit(t, s, []string{"a", "b"}[i%2], fmt.Sprintf("s%d", rand.IntN(5)), OrderPlaced{Order: fmt.Sprint(i), Total: i})
			if c == nil {
				break
			}
			out = append(out, c)
			if rand.IntN(4) == 0 {
				time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
			}
		}
		done <- out
	}()
	return func() []*eventstore.Commit { return <-done }
}

// WaitFor waits until cond holds, failing the test after 30 seconds.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Fast are relay options that poll and back off in milliseconds.
func Fast() relay.Options {
	return relay.Options{Read: subscription.Options{PageSize: 7, Poll: 5 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}}
}

// Run starts r in the background; the returned function stops it (once)
// and returns Run's error.
func Run(t testing.TB, r *relay.Relay) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error { once.Do(func() { cancel(); err = <-done }); return err }
	t.Cleanup(func() { stop() })
	return stop
}

// Received is a message as a consumer got it: its commit ID, stream key,
// checkpoint and partition (0 for brokers without partitions).
type Received struct {
	CommitID   string
	Key        string
	Checkpoint int64
	Partition  int32
}

// CheckAtLeastOnceInOrder fails unless every commit of want was received,
// nothing else was, and, per partition, the first copies of the commits
// come in checkpoint order (copies are allowed: consumers dedupe on the
// commit ID).
func CheckAtLeastOnceInOrder(t testing.TB, got []Received, want []*eventstore.Commit) (copies int) {
	t.Helper()
	wantIDs := map[string]int64{}
	for _, c := range want {
		wantIDs[c.CommitID.String()] = c.Checkpoint
	}
	seen := map[string]bool{}
	last := map[int32]int64{}
	for i, m := range got {
		cp, ok := wantIDs[m.CommitID]
		if !ok || cp != m.Checkpoint {
			t.Fatalf("message %d: commit %s checkpoint %d was never committed", i, m.CommitID, m.Checkpoint)
		}
		if seen[m.CommitID] {
			copies++
			continue
		}
		seen[m.CommitID] = true
		if m.Checkpoint <= last[m.Partition] {
			t.Fatalf("message %d: the first copy of checkpoint %d came after checkpoint %d in partition %d", i, m.Checkpoint, last[m.Partition], m.Partition)
		}
		last[m.Partition] = m.Checkpoint
	}
	for _, c := range want {
		if !seen[c.CommitID.String()] {
			t.Errorf("commit at checkpoint %d (%s/%s) never arrived", c.Checkpoint, c.BucketID, c.StreamID)
		}
	}
	return copies
}
