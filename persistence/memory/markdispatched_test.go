package memory

import (
	"context"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// MarkDispatched must not wait for engine.mu, which every commit takes: a
// dispatcher marking commits as fast as they are stored would otherwise
// queue committers behind it. With engine.mu held throughout, marking
// thousands of commits (past every compaction threshold) must still finish;
// committers compact the list afterwards.
func TestMarkDispatchedNeverWaitsForTheEngineLock(t *testing.T) {
	ctx := context.Background()
	e, d := newTestEngine(t)
	const n = 3 * markCompactMin
	stored := make([]persistence.Commit, 0, n)
	commit := func(seq int) persistence.Commit {
		c, err := e.Commit(ctx, &persistence.CommitAttempt{BucketID: "b", StreamID: "s", StreamRevision: seq, CommitSequence: seq,
			CommitID: persistence.NewUUID(), CommitStamp: time.Now().UTC().Truncate(time.Microsecond), EventCount: 1, Payload: []byte("{}")})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for i := range n {
		stored = append(stored, commit(i+1))
	}

	d.mu.Lock()
	done := make(chan error, 1)
	go func() {
		for _, c := range stored {
			if err := e.MarkDispatched(ctx, c); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		d.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		d.mu.Unlock()
		t.Fatal("MarkDispatched waited for engine.mu")
	}

	for c, err := range e.Undispatched(ctx) {
		t.Fatalf("commit %d still undispatched (err %v)", c.Checkpoint, err)
	}
	// The next commits compact the list of undispatched checkpoints.
	for i := n; i < n+undCheckEvery; i++ {
		commit(i + 1)
	}
	d.mu.RLock()
	listed := len(d.st.und)
	d.mu.RUnlock()
	if listed > 2*undCheckEvery {
		t.Errorf("%d checkpoints listed as undispatched for %d undispatched commits: not compacted", listed, undCheckEvery)
	}
}
