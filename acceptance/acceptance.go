package acceptance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// has. The memory engine also has persistence.InProcessValue.
var AllFeatures = []persistence.Capability{
	persistence.Snapshots, persistence.Dispatch, persistence.Delete,
	persistence.Purge, persistence.Drop, persistence.Head,
}

// capabilities lists every capability of package persistence, so that the
// suite can check Supports for each.
var capabilities = []persistence.Capability{
	persistence.Snapshots, persistence.Dispatch, persistence.Delete,
	persistence.Purge, persistence.Drop, persistence.Head, persistence.InProcessValue,
}

// DefaultPageSize is the page size the suite asks for when Harness.PageSize
// is 0.
const DefaultPageSize = 3

// scenarioTimeout bounds each scenario, so that a hung engine fails the
// scenario rather than the whole test binary.
const scenarioTimeout = 2 * time.Minute

// opTimeout is the operation timeout the suite configures: generous, since
// the race detector on a small machine is slow.
const opTimeout = 30 * time.Second

// scenario is one named check, run on an engine of its own. It runs only if
// the engine declares every capability in needs.
type scenario struct {
	name  string
	run   func(f *fixture)
	needs []persistence.Capability
}

// group gathers the scenarios of one part of the contract. It runs only if
// the engine declares every capability in needs.
type group struct {
	name      string
	scenarios []scenario
	needs     []persistence.Capability
}

// needs is a short way to write a capability list.
func needs(cs ...persistence.Capability) []persistence.Capability { return cs }

// groups lists every scenario, by group. Each group's file defines its list.
func groups() []group {
	return []group{
		{name: "Commit", scenarios: commitScenarios},
		{name: "ReadStream", scenarios: readStreamScenarios},
		{name: "Checkpoint", scenarios: checkpointScenarios},
		{name: "Head", scenarios: headScenarios},
		{name: "Wake", scenarios: wakeScenarios},
		{name: "Snapshot", scenarios: snapshotScenarios, needs: needs(persistence.Snapshots)},
		{name: "Dispatch", scenarios: dispatchScenarios, needs: needs(persistence.Dispatch)},
		{name: "Delete", scenarios: deleteScenarios, needs: needs(persistence.Delete)},
		{name: "Purge", scenarios: purgeScenarios, needs: needs(persistence.Purge)},
		{name: "Drop", scenarios: dropScenarios, needs: needs(persistence.Drop)},
		{name: "Initialize", scenarios: initializeScenarios},
		{name: "IDs", scenarios: idScenarios},
		{name: "Payload", scenarios: payloadScenarios},
		{name: "Iterator", scenarios: iteratorScenarios},
		{name: "Reentrancy", scenarios: reentrancyScenarios},
		{name: "Context", scenarios: contextScenarios},
		{name: "Close", scenarios: closeScenarios},
		{name: "Concurrency", scenarios: concurrencyScenarios},
		{name: "Store", scenarios: storeScenarios},
	}
}

// declared returns the set of capabilities in fs, or an error naming an
// unknown one.
func declared(fs []persistence.Capability) (map[persistence.Capability]bool, error) {
	set := map[persistence.Capability]bool{}
	for _, c := range fs {
		if !slices.Contains(capabilities, c) {
			return nil, fmt.Errorf("Harness.Features names %q, which is not a capability of package persistence (%v)", c, capabilities)
		}
		set[c] = true
	}
	return set, nil
}

// missing returns the capabilities of want that have does not hold.
func missing(want []persistence.Capability, have map[persistence.Capability]bool) []persistence.Capability {
	var out []persistence.Capability
	for _, c := range want {
		if !have[c] {
			out = append(out, c)
		}
	}
	return out
}

// Run runs every scenario of the suite whose capabilities h declares
// against engines made by h, each as a named subtest of t
// (TestAcceptance/Group/Scenario), and returns when all have finished.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("acceptance: Harness.New is nil")
	}
	if h.PageSize == 0 {
		h.PageSize = DefaultPageSize
	}
	if h.PageSize < 1 || h.PageSize > 8 {
		t.Fatalf("acceptance: Harness.PageSize is %d; want 1 to 8 (0: %d), so that the suite's loads cross pages", h.PageSize, DefaultPageSize)
	}
	have, err := declared(h.Features)
	if err != nil {
		t.Fatalf("acceptance: %v", err)
	}
	var left []string
	for _, g := range groups() {
		if m := missing(g.needs, have); len(m) > 0 {
			left = append(left, fmt.Sprintf("%s (needs %v)", g.name, m))
			continue
		}
		var run []scenario
		for _, s := range g.scenarios {
			if m := missing(s.needs, have); len(m) > 0 {
				left = append(left, fmt.Sprintf("%s/%s (needs %v)", g.name, s.name, m))
				continue
			}
			run = append(run, s)
		}
		if len(run) == 0 {
			continue
		}
		// The group's t.Run returns only when its parallel scenarios have
		// finished, so Run is synchronous for its caller.
		t.Run(g.name, func(t *testing.T) {
			for _, s := range run {
				t.Run(s.name, func(t *testing.T) {
					t.Parallel()
					s.run(newFixture(t, h, have))
				})
			}
		})
	}
	if len(left) > 0 {
		t.Logf("acceptance: left out for capabilities the engine does not declare: %s", strings.Join(left, ", "))
	}
}

// fixture is one scenario's engine and helpers.
type fixture struct {
	t    *testing.T
	ctx  context.Context
	e    *persistence.Engine
	h    Harness
	has  map[persistence.Capability]bool
	page int
	// stamp is the commit stamp of sequence 0: a year ahead (as in
	// NEventStore), at whole microseconds with a non-zero fraction.
	stamp time.Time
	// step describes what the scenario is waiting for, for the watchdog.
	step atomic.Pointer[string]
}

// can reports whether the engine declares capability c. Scenarios of the
// required core use it to leave out the checks that need an optional
// capability.
func (f *fixture) can(c persistence.Capability) bool { return f.has[c] }

// newFixture makes and initializes an engine for t and closes it when t ends.
func newFixture(t *testing.T, h Harness, have map[persistence.Capability]bool) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), scenarioTimeout)
	t.Cleanup(cancel)
	f := &fixture{
		t: t, ctx: ctx, h: h, has: have, page: h.PageSize,
		stamp: time.Now().UTC().Truncate(time.Second).AddDate(1, 0, 0).Add(123456 * time.Microsecond),
	}
	f.watch()
	f.e = f.newEngine()
	return f
}

// watch reports, if the scenario runs well past its timeout (an engine that
// ignores its context), what it is waiting for: on standard error at once,
// since the test binary may be killed before the test's log is printed.
func (f *fixture) watch() {
	var mu sync.Mutex
	done := false
	start := time.Now()
	timer := time.AfterFunc(scenarioTimeout+30*time.Second, func() {
		msg := fmt.Sprintf("acceptance: %s has run for %v, past its %v timeout, and is still waiting for %s: the engine does not return when its context is done",
			f.t.Name(), time.Since(start).Round(time.Second), scenarioTimeout, f.waitingFor())
		fmt.Fprintln(os.Stderr, msg)
		mu.Lock()
		defer mu.Unlock()
		if !done {
			f.t.Error(msg)
		}
	})
	f.t.Cleanup(func() {
		timer.Stop()
		mu.Lock()
		done = true
		mu.Unlock()
	})
}

// await records that the scenario is about to wait for what.
func (f *fixture) await(what string) { f.step.Store(&what) }

// waitingFor returns what the scenario last began to wait for.
func (f *fixture) waitingFor() string {
	if p := f.step.Load(); p != nil {
		return *p
	}
	return "its engine (Harness.New or Initialize)"
}

// explain adds to err, an error of a call made for what, that the scenario's
// own deadline ended it, if it did.
func (f *fixture) explain(what string, err error) string {
	if f.ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("%s: %v (the scenario's %v timeout expired while it waited for this call)", what, err, scenarioTimeout)
	}
	return fmt.Sprintf("%s: %v", what, err)
}

// newEngine makes an engine with h.New, checks its settings and declared
// capabilities, initializes it twice and registers its Close.
func (f *fixture) newEngine() *persistence.Engine {
	t, h := f.t, f.h
	t.Helper()
	f.await("Harness.New")
	e, err := h.New(f.ctx, t, persistence.WithPageSize(h.PageSize), persistence.WithTimeout(opTimeout))
	if err != nil {
		t.Fatal(f.explain("Harness.New", err))
	}
	if e == nil {
		t.Fatal("Harness.New returned a nil engine and no error")
	}
	t.Cleanup(func() {
		// t.Context is done by now: close with a context of its own.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Errorf("Close at cleanup: %v", err)
		}
	})
	if got := e.Settings().PageSize; got != h.PageSize {
		t.Fatalf("Harness.New passed persistence.WithPageSize(%d), but the engine's Settings().PageSize is %d: hand the options to the engine's Open or New", h.PageSize, got)
	}
	if got := e.Settings().Timeout; got != opTimeout {
		t.Fatalf("Harness.New passed persistence.WithTimeout(%v), but the engine's Settings().Timeout is %v: hand the options to the engine's Open or New", opTimeout, got)
	}
	var mismatch []string
	for _, c := range capabilities {
		if s := e.Supports(c); s != f.has[c] {
			if s {
				mismatch = append(mismatch, fmt.Sprintf("the engine supports %q but Harness.Features does not declare it", c))
			} else {
				mismatch = append(mismatch, fmt.Sprintf("Harness.Features declares %q but the engine does not support it", c))
			}
		}
	}
	if len(mismatch) > 0 {
		t.Fatalf("capabilities: %s", strings.Join(mismatch, "; "))
	}
	for i := range 2 {
		f.await(fmt.Sprintf("Initialize (call %d of 2)", i+1))
		if err := e.Initialize(f.ctx); err != nil {
			t.Fatal(f.explain(fmt.Sprintf("Initialize (call %d of 2; it must be idempotent)", i+1), err))
		}
	}
	return e
}
