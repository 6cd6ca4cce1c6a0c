package acceptance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// Harness tells the suite how to make engines and what they can do.
type Harness struct {
	// New returns a new, NOT yet initialized engine over fresh, empty
	// storage of its own (the suite calls Initialize, twice, and Close at
	// cleanup), configured with opts (the suite passes the page size, among
	// others: hand them to the engine's Open or New). It is called once per
	// scenario, from parallel subtests, with the scenario's t.
	New func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error)
	// PageSize is the read page size the suite asks for (1 to 8; default 3),
	// so that every paging scenario crosses pages.
	PageSize int
	// Features lists the optional capabilities the engine claims. The suite
	// fails if the engine's Supports disagrees, and runs the scenarios of
	// every claimed capability (and of the required core always).
	Features []persistence.Capability
}

// AllFeatures lists every optional capability an engine of this repository
// has.
var AllFeatures = []persistence.Capability{
	persistence.Snapshots, persistence.Dispatch, persistence.Delete,
	persistence.Purge, persistence.Drop, persistence.Head,
}

// scenarioTimeout bounds each scenario, so that a hung engine fails the
// scenario rather than the whole test binary.
const scenarioTimeout = 2 * time.Minute

// scenario is one named check, run on an engine of its own.
type scenario struct {
	name string
	run  func(f *fixture)
}

// group gathers the scenarios of one part of the contract.
type group struct {
	name      string
	scenarios []scenario
}

// groups lists every scenario, by group. Each group's file defines its list.
func groups() []group {
	return []group{
		{"Commit", commitScenarios},
		{"ReadStream", readStreamScenarios},
		{"Checkpoint", checkpointScenarios},
		{"Snapshot", snapshotScenarios},
		{"Dispatch", dispatchScenarios},
		{"Delete", deleteScenarios},
		{"IDs", idScenarios},
		{"Payload", payloadScenarios},
		{"Iterator", iteratorScenarios},
		{"Context", contextScenarios},
		{"Close", closeScenarios},
		{"Concurrency", concurrencyScenarios},
	}
}

// Run runs every scenario of the suite against engines made by h, each as a
// named subtest of t, and returns when all have finished.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("acceptance: Harness.New is nil")
	}
	if h.PageSize < 1 {
		t.Fatalf("acceptance: Harness.PageSize is %d; set it to the (small) read page size New configures", h.PageSize)
	}
	for _, g := range groups() {
		// The group's t.Run returns only when its parallel scenarios have
		// finished, so Run is synchronous for its caller.
		t.Run(g.name, func(t *testing.T) {
			for _, s := range g.scenarios {
				t.Run(s.name, func(t *testing.T) {
					t.Parallel()
					s.run(newFixture(t, h))
				})
			}
		})
	}
}

// fixture is one scenario's engine and helpers.
type fixture struct {
	t    *testing.T
	ctx  context.Context
	e    persistence.Engine
	h    Harness
	page int
	// stamp is the commit stamp of sequence 0: a year ahead (as in
	// NEventStore), at whole microseconds with a non-zero fraction.
	stamp time.Time
}

// newFixture makes and initializes an engine for t and closes it when t ends.
func newFixture(t *testing.T, h Harness) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), scenarioTimeout)
	t.Cleanup(cancel)
	e := newEngine(t, ctx, h)
	return &fixture{
		t: t, ctx: ctx, e: e, h: h, page: h.PageSize,
		stamp: time.Now().UTC().Truncate(time.Second).AddDate(1, 0, 0).Add(123456 * time.Microsecond),
	}
}

// newEngine makes an engine with h.New, initializes it twice and registers
// its Close.
func newEngine(t *testing.T, ctx context.Context, h Harness) persistence.Engine {
	t.Helper()
	e, err := h.New(ctx, t)
	if err != nil {
		t.Fatalf("Harness.New: %v", err)
	}
	if e == nil {
		t.Fatal("Harness.New returned a nil engine and no error")
	}
	t.Cleanup(func() {
		// t.Context is done by now: close with a context of its own.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil && !errors.Is(err, persistence.ErrClosed) {
			t.Errorf("Close at cleanup: %v", err)
		}
	})
	for i := range 2 {
		if err := e.Initialize(ctx); err != nil {
			t.Fatalf("Initialize (call %d of 2; it must be idempotent): %v", i+1, err)
		}
	}
	return e
}
