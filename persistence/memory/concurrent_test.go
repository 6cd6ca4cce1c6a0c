package memory

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// TestConcurrentEngine runs writers on distinct streams, a dispatch worker
// marking what they commit, a deleter and a poller at once (run it with
// -race): the poller must see checkpoints strictly increase, and, once all is
// done, have seen every commit not deleted; Undispatched must be empty.
func TestConcurrentEngine(t *testing.T) {
	ctx := context.Background()
	e := New(persistence.WithPageSize(7))
	const writers, streams, commits = 3, 20, 10
	marks := make(chan persistence.Commit, 64)
	full := make(chan string, streams) // writer 0's even streams, once written
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range streams {
				for seq := 1; seq <= commits; seq++ {
					c, err := e.Commit(ctx, &persistence.CommitAttempt{BucketID: "b" + strconv.Itoa(s%2),
						StreamID: "w" + strconv.Itoa(w) + "-" + strconv.Itoa(s), StreamRevision: seq, CommitSequence: seq,
						EventCount: 1, CommitID: persistence.NewUUID(), CommitStamp: time.Unix(1, 0).UTC(), Payload: []byte("x")})
					if err != nil {
						t.Error(err)
						return
					}
					marks <- c
				}
				if w == 0 && s%2 == 0 {
					full <- "w0-" + strconv.Itoa(s)
				}
			}
		}()
	}
	deleted := map[string]bool{}
	var dmu sync.Mutex
	done := make(chan struct{})
	go func() { // the deleter: the even streams of writer 0, as they fill
		defer close(done)
		for range streams / 2 {
			id := <-full
			if err := e.DeleteStream(ctx, "b0", id); err != nil {
				t.Error(err)
			}
			dmu.Lock()
			deleted[id] = true
			dmu.Unlock()
		}
	}()
	var mwg sync.WaitGroup
	mwg.Add(1)
	go func() {
		defer mwg.Done()
		for c := range marks {
			if err := e.MarkDispatched(ctx, c); err != nil {
				t.Error(err)
			}
		}
	}()
	seen := map[int64]persistence.Commit{}
	var last int64
	poll := func() {
		for c, err := range e.ReadAll(ctx, last) {
			if err != nil {
				t.Fatal(err)
			}
			if c.Checkpoint <= last {
				t.Fatalf("checkpoint %d after %d", c.Checkpoint, last)
			}
			last = c.Checkpoint
			seen[c.Checkpoint] = c
		}
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); <-done; close(marks); mwg.Wait(); close(finished) }()
	for running := true; running; {
		select {
		case <-finished:
			running = false
		default:
		}
		poll()
	}
	poll()
	n := 0
	for c, err := range e.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if _, ok := seen[c.Checkpoint]; !ok {
			t.Errorf("the poller missed checkpoint %d (%s/%s)", c.Checkpoint, c.BucketID, c.StreamID)
		}
	}
	want := writers*streams*commits - len(deleted)*commits
	if n != want {
		t.Errorf("ReadAll has %d commits, want %d", n, want)
	}
	for c, err := range e.Undispatched(ctx) {
		t.Errorf("undispatched after marking all: %v %v", c.Checkpoint, err)
	}
}
