package persistence

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// tracking adds dispatch tracking to fakeDriver, recording each mark call.
type tracking struct {
	*fakeDriver
	mu    sync.Mutex
	marks [][]int64 // checkpoints of each call: one for MarkDispatched
}

func (d *tracking) Undispatched(ctx context.Context, after int64, limit int) ([]Commit, error) {
	return nil, d.wait(ctx)
}

func (d *tracking) MarkDispatched(ctx context.Context, c Commit) error {
	d.record([]Commit{c})
	return d.wait(ctx)
}

func (d *tracking) record(cs []Commit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cps := make([]int64, len(cs))
	for i := range cs {
		cps[i] = cs[i].Checkpoint
	}
	d.marks = append(d.marks, cps)
}

// batching is tracking with the DispatchBatcher capability.
type batching struct{ *tracking }

func (d batching) MarkDispatchedBatch(ctx context.Context, cs []Commit) error {
	d.record(cs)
	return d.wait(ctx)
}

func stored(cps ...int64) []Commit {
	cs := make([]Commit, len(cps))
	for i, cp := range cps {
		cs[i] = Commit{CommitAttempt: *attemptFor("s", i+1), Checkpoint: cp}
	}
	return cs
}

// MarkDispatchedBatch hands an engine with the capability batches of at
// most driver.MaxDispatchBatch; an engine without it gets one
// MarkDispatched per distinct checkpoint. Both refuse an unstored commit
// before any call, and an empty batch makes no call.
func TestMarkDispatchedBatch(t *testing.T) {
	ctx := context.Background()
	n := 2*driver.MaxDispatchBatch + 1
	var many []int64
	for i := range n {
		many = append(many, int64(i+1))
	}
	for _, batch := range []bool{true, false} {
		tr := &tracking{fakeDriver: &fakeDriver{}}
		var d driver.Engine = tr
		if batch {
			d = batching{tr}
		}
		e, err := NewEngine("fake", d)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.MarkDispatchedBatch(ctx, nil); err != nil || len(tr.marks) != 0 {
			t.Errorf("batch=%v: an empty batch: %v, %d calls", batch, err, len(tr.marks))
		}
		err = e.MarkDispatchedBatch(ctx, append(stored(1, 2), Commit{CommitAttempt: *attemptFor("bad", 1)}))
		var se *StreamError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &se) || se.StreamID != "bad" || len(tr.marks) != 0 {
			t.Errorf("batch=%v: an unstored commit: %v (%d calls); want ErrInvalid naming stream bad, before any call", batch, err, len(tr.marks))
		}
		if err := e.MarkDispatchedBatch(ctx, stored(append(many, 1, 2)...)); err != nil {
			t.Fatal(err)
		}
		var sizes []int
		total := 0
		for _, m := range tr.marks {
			sizes = append(sizes, len(m))
			total += len(m)
		}
		switch {
		case batch && (len(sizes) != 3 || sizes[0] != driver.MaxDispatchBatch || total != n+2):
			t.Errorf("batching engine: calls of %v commits, want %d, %d and 3", sizes, driver.MaxDispatchBatch, driver.MaxDispatchBatch)
		case !batch && (len(sizes) != n || total != n):
			t.Errorf("engine without batches: %d calls for %d commits (%d distinct), want one per distinct checkpoint", len(sizes), n+2, n)
		}

		// Errors are classified as the single mark's, and name the batch.
		tr.err = &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset")}
		err = e.MarkDispatchedBatch(ctx, stored(7, 8))
		named := strings.Contains(err.Error(), "2 commits, from checkpoint 7")
		if !batch { // the single mark's error, naming the commit
			named = errors.As(err, &se) && se.StreamID == "s" && se.CommitSequence == 1
		}
		if !errors.Is(err, ErrStorageUnavailable) || !named {
			t.Errorf("batch=%v: a network error: %v; want ErrStorageUnavailable naming the first commit", batch, err)
		}
		tr.err = nil
		if err := e.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.MarkDispatchedBatch(ctx, stored(9)); !errors.Is(err, ErrClosed) {
			t.Errorf("batch=%v: after Close: %v, want ErrClosed", batch, err)
		}
	}
}
