package acceptance_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/driver"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// The suite must fail engines that break the contract. Each broken driver
// below is the adapter driver (a driver over a memory engine) with one
// known defect; TestSuiteCatches runs the scenario meant to catch it in a
// child process and checks that it fails. TestAdapter checks that the
// adapter without a defect passes the whole suite, so that what fails is
// the defect.

const pageSize = 3

// brokenEngines maps a defect to the scenario that must catch it.
var brokenEngines = map[string]string{
	"late-visibility":              "Concurrency/PollingReadersMissNothing",
	"case-folding-ids":             "IDs/DistinctIDs",
	"conflict-before-dup":          "Commit/DuplicateTakesPrecedence",
	"millisecond-stamps":           "Commit/RoundTrip",
	"page-boundary-skip":           "Checkpoint/MorePagesThanOne",
	"snapshot-without-stream":      "Snapshot/StreamMustHoldRevision",
	"undispatched-after-marks":     "Dispatch/MarkDispatched",
	"checkpoint-reuse-after-purge": "Checkpoint/NotReusedAfterPurge",
	"head-counts-deleted":          "Head/AfterDeleteStream",
	"holds-lock-across-pages":      "Reentrancy/InsideReadAll",
	"forgets-values":               "Commit/InProcessValue",
	"undispatched-lost":            "Store/Redispatch",
	"duplicate-as-conflict":        "Store/ConflictThroughStream",
	"ignores-options":              "Commit/RoundTrip",
	"undeclared-capability":        "Commit/RoundTrip",
}

func TestSuiteCatches(t *testing.T) {
	for defect, scenario := range brokenEngines {
		t.Run(defect, func(t *testing.T) {
			t.Parallel()
			group, name, _ := strings.Cut(scenario, "/")
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenEngine$/^"+group+"$/^"+name+"$", "-test.v")
			cmd.Env = append(os.Environ(), "ACCEPTANCE_BROKEN_ENGINE="+defect)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed an engine with defect %q; output:\n%s", defect, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenEngine/"+scenario+" ") {
				t.Errorf("defect %q: scenario %s did not fail; output:\n%s", defect, scenario, out)
			}
			t.Logf("defect %q caught by %s in %v", defect, scenario, time.Since(start).Round(time.Millisecond))
			if testing.Verbose() {
				for _, line := range strings.Split(string(out), "\n") {
					if strings.Contains(line, ".go:") {
						t.Log(strings.TrimSpace(line))
					}
				}
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
	features := append(slices.Clone(acceptance.AllFeatures), persistence.InProcessValue)
	if defect == "undeclared-capability" {
		features = slices.DeleteFunc(features, func(c persistence.Capability) bool { return c == persistence.Head })
	}
	acceptance.Run(t, acceptance.Harness{
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			if defect == "ignores-options" {
				opts = nil
			}
			return newAdapter(defect, opts...)
		},
		PageSize: pageSize,
		Features: features,
	})
}

// TestAdapter runs the whole suite against the adapter without a defect.
func TestAdapter(t *testing.T) {
	acceptance.Run(t, acceptance.Harness{
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			return newAdapter("", opts...)
		},
		PageSize: pageSize,
		Features: append(slices.Clone(acceptance.AllFeatures), persistence.InProcessValue),
	})
}

// TestOutage runs RunOutage against the adapter, whose "server" Stop and
// Start take away and bring back; with ACCEPTANCE_BROKEN_OUTAGE set, against
// the adapter with that defect (a child process of TestOutageCatches).
func TestOutage(t *testing.T) {
	var a *adapter
	acceptance.RunOutage(t, acceptance.Outage{
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			e, ad, err := newAdapterOf(os.Getenv("ACCEPTANCE_BROKEN_OUTAGE"), opts...)
			a = ad
			return e, err
		},
		Stop:     func(context.Context) error { a.down.Store(true); return nil },
		Start:    func(context.Context) error { a.down.Store(false); return nil },
		Recovery: 10 * time.Second,
	})
}

// TestOutageCatches checks that RunOutage fails an engine whose call hangs
// past the operation timeout while the server is down.
func TestOutageCatches(t *testing.T) {
	if os.Getenv("ACCEPTANCE_BROKEN_OUTAGE") != "" {
		return
	}
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestOutage$", "-test.v")
	cmd.Env = append(os.Environ(), "ACCEPTANCE_BROKEN_OUTAGE=outage-hangs")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("RunOutage passed an engine whose commit hangs with the server down; output:\n%s", out)
	}
	if !strings.Contains(string(out), "Commit with the server down took") {
		t.Errorf("RunOutage did not report the hanging commit; output:\n%s", out)
	}
}

// newAdapter returns an engine over an adapter with defect.
func newAdapter(defect string, opts ...persistence.Option) (*persistence.Engine, error) {
	e, _, err := newAdapterOf(defect, opts...)
	return e, err
}

func newAdapterOf(defect string, opts ...persistence.Option) (*persistence.Engine, *adapter, error) {
	a := &adapter{inner: memory.New(), defect: defect, hidden: map[int64]time.Time{}, rows: make(chan struct{}, 1)}
	e, err := persistence.NewEngine("adapter", a, opts...)
	return e, a, err
}

// adapter is a driver over a memory engine, the simplest driver there is:
// each page is read from the inner engine's iterators. It has every
// capability, and one defect if defect is set.
type adapter struct {
	inner  *persistence.Engine
	defect string
	down   atomic.Bool // outage: calls fail as if the server were gone
	hung   atomic.Bool // outage-hangs: a call has hung

	mu     sync.Mutex
	hidden map[int64]time.Time // late-visibility: checkpoint => when it becomes visible
	base   int64               // checkpoint-reuse-after-purge: inner checkpoint of the last purge
	head   int64               // head-counts-deleted: the greatest checkpoint handed out
	rows   chan struct{}       // holds-lock-across-pages: held while a page is "open"
}

var (
	_ driver.Engine          = (*adapter)(nil)
	_ driver.ValueCommitter  = (*adapter)(nil)
	_ driver.Initializer     = (*adapter)(nil)
	_ driver.Closer          = (*adapter)(nil)
	_ driver.Snapshotter     = (*adapter)(nil)
	_ driver.DispatchTracker = (*adapter)(nil)
	_ driver.StreamDeleter   = (*adapter)(nil)
	_ driver.Purger          = (*adapter)(nil)
	_ driver.Dropper         = (*adapter)(nil)
	_ driver.HeadReader      = (*adapter)(nil)
)

// outage is the error of every call while the server is "down": one the
// portable layer classifies as ErrStorageUnavailable.
var errOutage = fmt.Errorf("dial tcp 127.0.0.1:1: %w", syscall.ECONNREFUSED)

// enter fails calls while the server is down; with defect "outage-hangs"
// the first such call waits past RunOutage's bound first, ignoring its
// context.
func (a *adapter) enter() error {
	if !a.down.Load() {
		return nil
	}
	if a.defect == "outage-hangs" && a.hung.CompareAndSwap(false, true) {
		time.Sleep(acceptance.OutageTimeout + 3*time.Second)
	}
	return errOutage
}

func (a *adapter) Commit(ctx context.Context, at *driver.CommitAttempt) (driver.Commit, error) {
	return a.CommitValue(ctx, at, nil)
}

func (a *adapter) CommitValue(ctx context.Context, at *driver.CommitAttempt, v any) (driver.Commit, error) {
	if err := a.enter(); err != nil {
		return driver.Commit{}, err
	}
	if a.defect == "holds-lock-across-pages" {
		select {
		case a.rows <- struct{}{}:
			<-a.rows
		case <-ctx.Done():
			return driver.Commit{}, ctx.Err()
		}
	}
	c := *at
	switch a.defect {
	case "case-folding-ids":
		c.StreamID = strings.ToLower(c.StreamID)
	case "millisecond-stamps":
		c.CommitStamp = c.CommitStamp.Truncate(time.Millisecond)
	case "forgets-values":
		v = nil
	}
	out, err := a.inner.CommitValue(ctx, &c, v)
	switch {
	case (a.defect == "conflict-before-dup" && c.CommitSequence > 1 || a.defect == "duplicate-as-conflict") &&
		errors.Is(err, driver.ErrDuplicateCommit):
		return driver.Commit{}, driver.ErrConcurrency
	case err != nil:
		return driver.Commit{}, err
	}
	a.mu.Lock()
	a.head = max(a.head, out.Checkpoint)
	out.Checkpoint -= a.base
	late := a.defect == "late-visibility" && out.Checkpoint%5 == 0
	if late {
		// Numbered now, visible in 2ms: the trap of auto-increment columns.
		// The writer is acknowledged only once the commit is visible.
		a.hidden[out.Checkpoint] = time.Now().Add(2 * time.Millisecond)
	}
	a.mu.Unlock()
	if late {
		time.Sleep(2 * time.Millisecond)
	}
	return out, nil
}

func (a *adapter) ReadStream(ctx context.Context, q driver.StreamQuery) ([]driver.Commit, error) {
	if err := a.enter(); err != nil {
		return nil, err
	}
	var page []driver.Commit
	for c, err := range a.inner.ReadStream(ctx, q.BucketID, q.StreamID, q.MinRevision, q.MaxRevision) {
		if err != nil {
			return nil, err
		}
		if c.CommitSequence <= q.AfterSequence {
			continue
		}
		c.Checkpoint -= a.baseNow()
		if page = append(page, c); len(page) == q.Limit {
			break
		}
	}
	return page, nil
}

func (a *adapter) baseNow() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.base
}

func (a *adapter) ReadCommits(ctx context.Context, q driver.CommitQuery) ([]driver.Commit, error) {
	if err := a.enter(); err != nil {
		return nil, err
	}
	if a.defect == "holds-lock-across-pages" {
		// Let go of the previous page's "rows", then hold this one's
		// until the next page is asked for.
		select {
		case <-a.rows:
		default:
		}
	}
	base := a.baseNow()
	seq := a.inner.ReadAll(ctx, q.After+base)
	if q.BucketID != "" {
		seq = a.inner.ReadBucket(ctx, q.BucketID, q.After+base)
	}
	var page []driver.Commit
	first := true
	for c, err := range seq {
		if err != nil {
			return nil, err
		}
		c.Checkpoint -= base
		if a.defect == "page-boundary-skip" && q.After > 0 && first {
			first = false
			continue
		}
		if a.defect == "late-visibility" {
			a.mu.Lock()
			at, ok := a.hidden[c.Checkpoint]
			a.mu.Unlock()
			if ok && time.Now().Before(at) {
				continue
			}
		}
		if page = append(page, c); len(page) == q.Limit {
			break
		}
	}
	if a.defect == "holds-lock-across-pages" && len(page) == q.Limit {
		a.rows <- struct{}{}
	}
	return page, nil
}

func (a *adapter) Initialize(ctx context.Context) error {
	if err := a.enter(); err != nil {
		return err
	}
	return a.inner.Initialize(ctx)
}

func (a *adapter) Close(ctx context.Context) error { return a.inner.Close(ctx) }

func (a *adapter) AddSnapshot(ctx context.Context, s driver.Snapshot) error {
	if err := a.enter(); err != nil {
		return err
	}
	err := a.inner.AddSnapshot(ctx, s)
	if a.defect == "snapshot-without-stream" && errors.Is(err, driver.ErrStreamNotFound) {
		return nil
	}
	return err
}

func (a *adapter) LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (driver.Snapshot, error) {
	if err := a.enter(); err != nil {
		return driver.Snapshot{}, err
	}
	return a.inner.LatestSnapshot(ctx, bucketID, streamID, maxRevision)
}

func (a *adapter) StreamsToSnapshot(ctx context.Context, q driver.HeadQuery) ([]driver.StreamHead, string, error) {
	if err := a.enter(); err != nil {
		return nil, "", err
	}
	skip := 0
	if q.Cursor != "" {
		skip, _ = strconv.Atoi(q.Cursor)
	}
	var page []driver.StreamHead
	i, more := 0, false
	for h, err := range a.inner.StreamsToSnapshot(ctx, q.BucketID, q.Threshold) {
		if err != nil {
			return nil, "", err
		}
		if i++; i <= skip {
			continue
		}
		if len(page) == q.Limit {
			more = true
			break
		}
		page = append(page, h)
	}
	if !more {
		return page, "", nil
	}
	return page, strconv.Itoa(skip + len(page)), nil
}

func (a *adapter) Undispatched(ctx context.Context, after int64, limit int) ([]driver.Commit, error) {
	if err := a.enter(); err != nil {
		return nil, err
	}
	if a.defect == "undispatched-lost" {
		return nil, nil
	}
	base := a.baseNow()
	var page []driver.Commit
	for c, err := range a.inner.UndispatchedAfter(ctx, after+base) {
		if err != nil {
			return nil, err
		}
		c.Checkpoint -= base
		if page = append(page, c); len(page) == limit {
			break
		}
	}
	return page, nil
}

func (a *adapter) MarkDispatched(ctx context.Context, c driver.Commit) error {
	if err := a.enter(); err != nil {
		return err
	}
	if a.defect == "undispatched-after-marks" && c.CommitSequence > 1 {
		return nil // forgets to mark
	}
	c.Checkpoint += a.baseNow()
	return a.inner.MarkDispatched(ctx, c)
}

func (a *adapter) DeleteStream(ctx context.Context, bucketID, streamID string) error {
	if err := a.enter(); err != nil {
		return err
	}
	return a.inner.DeleteStream(ctx, bucketID, streamID)
}

func (a *adapter) Purge(ctx context.Context) error {
	if err := a.enter(); err != nil {
		return err
	}
	if err := a.inner.Purge(ctx); err != nil {
		return err
	}
	if a.defect == "checkpoint-reuse-after-purge" {
		// Numbering starts again from 1.
		a.mu.Lock()
		a.base = a.head
		a.mu.Unlock()
	}
	return nil
}

func (a *adapter) PurgeBucket(ctx context.Context, bucketID string) error {
	if err := a.enter(); err != nil {
		return err
	}
	return a.inner.PurgeBucket(ctx, bucketID)
}

func (a *adapter) Drop(ctx context.Context) error {
	if err := a.enter(); err != nil {
		return err
	}
	return a.inner.Drop(ctx)
}

func (a *adapter) Head(ctx context.Context) (int64, error) {
	if err := a.enter(); err != nil {
		return 0, err
	}
	if a.defect == "head-counts-deleted" {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.head - a.base, nil
	}
	cp, err := a.inner.Head(ctx)
	if cp > 0 {
		cp -= a.baseNow()
	}
	return cp, err
}
