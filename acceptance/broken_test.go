package acceptance_test

import (
	"context"
	"errors"
	"iter"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// The suite must fail engines that break the contract. Each broken engine
// below wraps the memory engine with one known defect; TestSuiteCatches runs
// the suite against it in a child process and checks that the scenario
// meant to catch that defect fails.

const pageSize = 3

// brokenEngines maps a defect to the scenario that must catch it.
var brokenEngines = map[string]string{
	"late-visibility":          "Concurrency/PollingReadersMissNothing",
	"case-folding-ids":         "IDs/DistinctIDs",
	"conflict-before-dup":      "Commit/DuplicateTakesPrecedence",
	"ignores-context":          "Context/Cancelled",
	"millisecond-stamps":       "Commit/RoundTrip",
	"page-boundary-skip":       "Checkpoint/MorePagesThanOne",
	"snapshot-without-stream":  "Snapshot/StreamMustHoldRevision",
	"undispatched-after-marks": "Dispatch/MarkDispatched",
}

func TestSuiteCatches(t *testing.T) {
	for defect, scenario := range brokenEngines {
		t.Run(defect, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenEngine$", "-test.parallel=4")
			cmd.Env = append(os.Environ(), "ACCEPTANCE_BROKEN_ENGINE="+defect)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed an engine with defect %q", defect)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenEngine/"+scenario+" ") {
				t.Errorf("defect %q: scenario %s did not fail; output:\n%s", defect, scenario, out)
			}
		})
	}
}

// TestBrokenEngine runs the suite against the broken engine that
// ACCEPTANCE_BROKEN_ENGINE names; it is a child process of TestSuiteCatches
// and does nothing when run directly.
func TestBrokenEngine(t *testing.T) {
	defect := os.Getenv("ACCEPTANCE_BROKEN_ENGINE")
	if defect == "" {
		return
	}
	acceptance.Run(t, acceptance.Harness{
		New: func(ctx context.Context, t *testing.T) (persistence.Engine, error) {
			return &broken{Engine: memory.New(memory.WithPageSize(pageSize)), defect: defect, hidden: map[int64]time.Time{}}, nil
		},
		PageSize: pageSize,
	})
}

// broken is the memory engine with one defect.
type broken struct {
	persistence.Engine
	defect string

	mu     sync.Mutex
	hidden map[int64]time.Time // late-visibility: checkpoint => when it becomes visible
}

func (b *broken) Commit(ctx context.Context, a *persistence.CommitAttempt) (persistence.Commit, error) {
	switch b.defect {
	case "case-folding-ids":
		if a != nil {
			c := *a
			c.StreamID = strings.ToLower(c.StreamID)
			a = &c
		}
	case "ignores-context":
		ctx = context.Background()
	case "millisecond-stamps":
		if a != nil {
			c := *a
			c.CommitStamp = c.CommitStamp.Truncate(time.Millisecond)
			a = &c
		}
	}
	c, err := b.Engine.Commit(ctx, a)
	switch {
	case b.defect == "conflict-before-dup" && errors.Is(err, persistence.ErrDuplicateCommit) && a.CommitSequence > 1:
		return c, persistence.CommitError(a, persistence.ErrConcurrency)
	case b.defect == "late-visibility" && err == nil && c.Checkpoint%5 == 0:
		// Numbered now, visible in 2ms: the trap of auto-increment columns.
		// The writer is acknowledged only once the commit is visible.
		b.mu.Lock()
		b.hidden[c.Checkpoint] = time.Now().Add(2 * time.Millisecond)
		b.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
	}
	return c, err
}

func (b *broken) ReadStream(ctx context.Context, bucketID, streamID string, minRevision, maxRevision int) iter.Seq2[persistence.Commit, error] {
	if b.defect == "case-folding-ids" {
		streamID = strings.ToLower(streamID)
	}
	if b.defect == "ignores-context" {
		ctx = context.Background()
	}
	return b.Engine.ReadStream(ctx, bucketID, streamID, minRevision, maxRevision)
}

func (b *broken) ReadAll(ctx context.Context, after int64) iter.Seq2[persistence.Commit, error] {
	inner := b.Engine.ReadAll(ctx, after)
	return func(yield func(persistence.Commit, error) bool) {
		i := 0
		for c, err := range inner {
			i++
			if b.defect == "page-boundary-skip" && i == pageSize+1 {
				continue
			}
			if b.defect == "late-visibility" && err == nil {
				b.mu.Lock()
				at, ok := b.hidden[c.Checkpoint]
				b.mu.Unlock()
				if ok && time.Now().Before(at) {
					continue
				}
			}
			if !yield(c, err) {
				return
			}
		}
	}
}

func (b *broken) AddSnapshot(ctx context.Context, s persistence.Snapshot) error {
	err := b.Engine.AddSnapshot(ctx, s)
	if b.defect == "snapshot-without-stream" && errors.Is(err, persistence.ErrStreamNotFound) {
		return nil
	}
	return err
}

func (b *broken) MarkDispatched(ctx context.Context, c persistence.Commit) error {
	if b.defect == "undispatched-after-marks" && c.CommitSequence > 1 {
		return nil // forgets to mark
	}
	return b.Engine.MarkDispatched(ctx, c)
}
