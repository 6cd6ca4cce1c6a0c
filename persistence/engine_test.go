package persistence

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// fakeDriver is a driver with only the required core, whose answers the
// tests of the portable layer choose. It is not a storage engine: the real
// engines run the acceptance suite against real servers.
type fakeDriver struct {
	mu      sync.Mutex
	commits []Commit
	calls   atomic.Int64
	err     error                                       // returned by every call when set
	block   chan struct{}                               // when set, calls wait for it (or ctx)
	page    func(q driver.CommitQuery) []Commit         // overrides ReadCommits when set
	cut     func(q driver.CommitQuery) ([]Commit, bool) // overrides ReadCommits when set; true: with driver.ErrPageCut
	stream  func(q driver.StreamQuery) []Commit         // overrides ReadStream when set
	closed  atomic.Int64
}

func (d *fakeDriver) wait(ctx context.Context) error {
	d.calls.Add(1)
	if d.block != nil {
		select {
		case <-d.block:
		case <-ctx.Done():
			return fmt.Errorf("fake: gave up: %w", ctx.Err())
		}
	}
	return d.err
}

func (d *fakeDriver) Commit(ctx context.Context, a *CommitAttempt) (Commit, error) {
	if err := d.wait(ctx); err != nil {
		return Commit{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c := Commit{CommitAttempt: *a, Checkpoint: int64(len(d.commits) + 1)}
	d.commits = append(d.commits, c)
	return c, nil
}

func (d *fakeDriver) ReadStream(ctx context.Context, q driver.StreamQuery) ([]Commit, error) {
	if err := d.wait(ctx); err != nil {
		return nil, err
	}
	if d.stream != nil {
		return d.stream(q), nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Commit
	for _, c := range d.commits {
		if c.BucketID == q.BucketID && c.StreamID == q.StreamID && c.CommitSequence > q.AfterSequence &&
			c.StreamRevision >= q.MinRevision && c.FirstRevision() <= q.MaxRevision && len(out) < q.Limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (d *fakeDriver) ReadCommits(ctx context.Context, q driver.CommitQuery) ([]Commit, error) {
	if err := d.wait(ctx); err != nil {
		return nil, err
	}
	if d.cut != nil {
		page, cut := d.cut(q)
		if cut {
			return page, driver.ErrPageCut
		}
		return page, nil
	}
	if d.page != nil {
		return d.page(q), nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Commit
	for _, c := range d.commits {
		if c.Checkpoint > q.After && (q.BucketID == "" || c.BucketID == q.BucketID) && len(out) < q.Limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (d *fakeDriver) Close(ctx context.Context) error { d.closed.Add(1); return nil }

// classifying adds an ErrorClassifier and an Aser to fakeDriver.
type classifying struct{ *fakeDriver }

var errDenied = errors.New("fake: denied")

func (classifying) Classify(err error) error {
	if errors.Is(err, errDenied) {
		return ErrPermissionDenied
	}
	return nil
}

func (classifying) As(target any) bool {
	p, ok := target.(*string)
	if ok {
		*p = "native client"
	}
	return ok
}

func newFake(t *testing.T, opts ...Option) (*Engine, *fakeDriver) {
	t.Helper()
	d := &fakeDriver{}
	e, err := NewEngine("fake", d, append([]Option{WithPageSize(2)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e, d
}

func attemptFor(stream string, seq int) *CommitAttempt {
	a := validAttempt()
	a.StreamID, a.CommitSequence, a.StreamRevision, a.EventCount = stream, seq, seq, 1
	return a
}

func TestInvalidInputNeverReachesTheDriver(t *testing.T) {
	e, d := newFake(t)
	ctx := context.Background()
	bad := attemptFor("s", 1)
	bad.StreamID = ""
	if _, err := e.Commit(ctx, bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("Commit with an empty stream ID: %v", err)
	}
	if _, err := e.Commit(ctx, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Commit(nil): %v", err)
	}
	for _, err := range e.ReadStream(ctx, "b", "s", 5, 2) {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ReadStream with crossed revisions: %v", err)
		}
	}
	for _, err := range e.ReadBucket(ctx, "", 0) {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ReadBucket with an empty bucket: %v", err)
		}
	}
	for _, err := range e.ReadAll(ctx, -1) {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ReadAll(-1): %v", err)
		}
	}
	if n := d.calls.Load(); n != 0 {
		t.Errorf("the driver was called %d times with invalid input", n)
	}
}

func TestReadsPageAndTheLoopBodyMayCallTheEngine(t *testing.T) {
	e, d := newFake(t) // page size 2
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		if _, err := e.Commit(ctx, attemptFor("s", i)); err != nil {
			t.Fatal(err)
		}
	}
	d.calls.Store(0)
	var seqs []int
	for c, err := range e.ReadStream(ctx, DefaultBucket, "s", 0, 0) {
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, c.CommitSequence)
		// Re-entrant: the body commits to another stream while reading.
		if _, err := e.Commit(ctx, attemptFor(fmt.Sprint("other-", c.CommitSequence), 1)); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5]" {
		t.Errorf("read sequences %v", seqs)
	}
	// Pages of 2 then 4 (the second one short) plus 5 commits.
	if n := d.calls.Load(); n != 7 {
		t.Errorf("%d driver calls, want 2 pages + 5 commits", n)
	}
	var cps []int64
	for c, err := range e.ReadAll(ctx, 3) {
		if err != nil {
			t.Fatal(err)
		}
		cps = append(cps, c.Checkpoint)
	}
	if fmt.Sprint(cps) != "[4 5 6 7 8 9 10]" {
		t.Errorf("ReadAll after 3: %v", cps)
	}
}

func TestAnEngineThatBreaksTheOrderIsReported(t *testing.T) {
	e, d := newFake(t)
	d.page = func(q driver.CommitQuery) []Commit {
		return []Commit{{Checkpoint: 7}, {Checkpoint: 7}}
	}
	for _, err := range e.ReadAll(context.Background(), 0) {
		if !errors.Is(err, ErrStorage) || !strings.Contains(err.Error(), "broke the contract") {
			t.Errorf("repeated checkpoint: %v", err)
		}
		return
	}
	t.Error("no error yielded")
}

func TestErrorClasses(t *testing.T) {
	ctx := context.Background()
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		name  string
		err   error
		class error
	}{
		{"network", netErr, ErrStorageUnavailable},
		{"classified", fmt.Errorf("wrapped: %w", errDenied), ErrPermissionDenied},
		{"unknown", errors.New("fake: something odd"), ErrStorage},
		{"rule outcome", fmt.Errorf("seq taken: %w", ErrConcurrency), ErrConcurrency},
	}
	for _, c := range cases {
		d := &fakeDriver{err: c.err}
		e, err := NewEngine("fake", classifying{d})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Commit(ctx, attemptFor("s", 1))
		var se *StreamError
		if !errors.Is(err, c.class) || !errors.Is(err, c.err) || !errors.As(err, &se) || se.StreamID != "s" {
			t.Errorf("%s: %v; want %v wrapping the driver's error, naming the stream", c.name, err, c.class)
		}
		for _, other := range []error{ErrStorageUnavailable, ErrPermissionDenied, ErrNotInitialized, ErrMisconfigured, ErrStorage} {
			if other != c.class && errors.Is(err, other) {
				t.Errorf("%s: %v also matches %v", c.name, err, other)
			}
		}
	}
}

func TestTimeoutIsUnavailableAndCallerCancelIsTheCallers(t *testing.T) {
	d := &fakeDriver{block: make(chan struct{})}
	e, err := NewEngine("fake", d, WithTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = e.Commit(context.Background(), attemptFor("s", 1))
	if !errors.Is(err, ErrStorageUnavailable) || !strings.Contains(err.Error(), "no answer within") {
		t.Errorf("a driver that does not answer: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("gave up after %v with a 50ms timeout", el)
	}
	// The caller's cancel comes long before the (now long) timeout.
	e, err = NewEngine("fake", d, WithTimeout(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	for _, err := range e.ReadAll(ctx, 0) {
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrStorageUnavailable) {
			t.Errorf("the caller cancelled: %v", err)
		}
	}
	if _, err := e.Commit(ctx, attemptFor("s", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("a done context: %v", err)
	}
}

// earlyDeadline is a driver that gives up before its context's deadline
// passes, as the MongoDB driver does when the time left is under a round
// trip ("operation not sent to server, as Timeout would be exceeded").
type earlyDeadline struct{ *fakeDriver }

func (earlyDeadline) Commit(ctx context.Context, _ *CommitAttempt) (Commit, error) {
	return Commit{}, fmt.Errorf("fake: not sent, the deadline is near: %w", context.DeadlineExceeded)
}

func (earlyDeadline) ReadCommits(ctx context.Context, _ driver.CommitQuery) ([]Commit, error) {
	return nil, fmt.Errorf("fake: not sent, the deadline is near: %w", context.DeadlineExceeded)
}

func TestEarlyGiveUpBeforeTheCallersDeadlineIsTheCallers(t *testing.T) {
	e, err := NewEngine("fake", earlyDeadline{&fakeDriver{}}, WithTimeout(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, err := range e.ReadAll(ctx, 0) {
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrStorageUnavailable) {
			t.Errorf("ReadAll: %v, want the caller's deadline", err)
		}
	}
	if _, err := e.Commit(ctx, attemptFor("s", 1)); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrStorageUnavailable) {
		t.Errorf("Commit: %v, want the caller's deadline", err)
	}
	// Under the operation timeout, the same error is the storage's.
	e, err = NewEngine("fake", earlyDeadline{&fakeDriver{}}, WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range e.ReadAll(ctx, 0) {
		if !errors.Is(err, ErrStorageUnavailable) {
			t.Errorf("ReadAll under the operation timeout: %v, want ErrStorageUnavailable", err)
		}
	}
}

func TestCloseWaitsForCallsThenRefuses(t *testing.T) {
	d := &fakeDriver{block: make(chan struct{})}
	e, err := NewEngine("fake", d, WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := e.Commit(context.Background(), attemptFor("s", 1))
		done <- err
	}()
	for d.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan error)
	go func() { closed <- e.Close(context.Background()) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a call was in progress")
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := e.Commit(context.Background(), attemptFor("t", 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit while closing: %v", err)
	}
	close(d.block)
	if err := <-done; err != nil {
		t.Errorf("the call in progress: %v", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n := d.closed.Load(); n != 1 {
		t.Errorf("driver closed %d times", n)
	}
	for _, err := range e.ReadAll(context.Background(), 0) {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("ReadAll after Close: %v", err)
		}
	}
	if err := e.Initialize(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Initialize after Close: %v", err)
	}
}

func TestCapabilitiesAndAs(t *testing.T) {
	e, _ := newFake(t)
	ctx := context.Background()
	if e.Supports(Snapshots) || e.Supports(Dispatch) {
		t.Error("a core-only driver claims capabilities")
	}
	checks := map[string]error{
		"AddSnapshot": e.AddSnapshot(ctx, Snapshot{BucketID: "b", StreamID: "s", StreamRevision: 1, Payload: []byte("x")}),
		"Purge":       e.Purge(ctx),
		"Drop":        e.Drop(ctx),
	}
	for name, err := range checks {
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "fake") {
			t.Errorf("%s on a core-only engine: %v", name, err)
		}
	}
	if cp, err := e.Head(ctx); err != nil || cp != 0 {
		t.Errorf("Head of an empty core-only engine: %d, %v", cp, err)
	}
	var s string
	if e.As(&s) {
		t.Error("As succeeded on a driver without As")
	}
	e2, _ := NewEngine("fake", classifying{&fakeDriver{}})
	if !e2.As(&s) || s != "native client" {
		t.Errorf("As: %q", s)
	}
}

func TestURLOptions(t *testing.T) {
	rest, s, err := ParseSettings("mysql://u@h/db?page_size=7&op_timeout=2s&tls=true", WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if rest != "mysql://u@h/db?tls=true" || s.PageSize != 7 || s.Timeout != 3*time.Second || s.AdminTimeout != DefaultAdminTimeout {
		t.Errorf("rest %q, settings %+v", rest, s)
	}
	rest, s, err = ParseSettings("memory://")
	if err != nil || rest != "memory://" || s.PageSize != DefaultPageSize || s.Timeout != DefaultTimeout {
		t.Errorf("no options: %q %+v %v", rest, s, err)
	}
	for _, bad := range []string{"x://?page_size=0", "x://?page_size=a", "x://?op_timeout=5", "x://?admin_timeout=-1s"} {
		if _, _, err := ParseSettings(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := NewEngine("fake", &fakeDriver{}, WithPageSize(-1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative page size: %v", err)
	}
	s, _ = NewSettings(WithEngineOption("table_prefix", "x_"), WithEngineOption("n", "3"))
	if v, ok := s.String("table_prefix"); !ok || v != "x_" {
		t.Errorf("engine option: %q %v", v, ok)
	}
	if n, err := s.Int("n", 1); err != nil || n != 3 {
		t.Errorf("Int: %d %v", n, err)
	}
}

// A commit error says whether the commit may have been stored: rule
// outcomes and refusals guarantee nothing was written; unavailability, an
// unknown failure, a timeout or a cancel during the write leave the outcome
// open, and are marked ErrOutcomeUnknown. A context already done before the
// call never reaches the driver and is not marked.
func TestCommitOutcomeUnknown(t *testing.T) {
	ctx := context.Background()
	netErr := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset")}
	cases := []struct {
		name    string
		err     error
		unknown bool
	}{
		{"unavailable", netErr, true},
		{"unknown failure", errors.New("fake: something odd"), true},
		{"denied", fmt.Errorf("wrapped: %w", errDenied), false},
		{"conflict", fmt.Errorf("seq taken: %w", ErrConcurrency), false},
		{"duplicate", fmt.Errorf("id taken: %w", ErrDuplicateCommit), false},
		{"not initialized", fmt.Errorf("no table: %w", ErrNotInitialized), false},
		{"engine knows", fmt.Errorf("lost: %w", ErrOutcomeUnknown), true},
	}
	for _, c := range cases {
		e, err := NewEngine("fake", classifying{&fakeDriver{err: c.err}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Commit(ctx, attemptFor("s", 1))
		if got := errors.Is(err, ErrOutcomeUnknown); got != c.unknown || !errors.Is(err, c.err) {
			t.Errorf("%s: %v: matches ErrOutcomeUnknown = %v, want %v (and the driver's error)", c.name, err, got, c.unknown)
		}
	}

	d := &fakeDriver{block: make(chan struct{})}
	e, err := NewEngine("fake", d, WithTimeout(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Commit(ctx, attemptFor("s", 1))
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, ErrStorageUnavailable) {
		t.Errorf("no answer within the timeout: %v; want ErrOutcomeUnknown and ErrStorageUnavailable", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	e, _ = NewEngine("fake", d, WithTimeout(time.Hour))
	_, err = e.Commit(cctx, attemptFor("s", 1))
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled during the write: %v; want ErrOutcomeUnknown and context.Canceled", err)
	}
	calls := d.calls.Load()
	_, err = e.Commit(cctx, attemptFor("s", 1))
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrOutcomeUnknown) || d.calls.Load() != calls {
		t.Errorf("a context done before the call: %v; want context.Canceled alone, without calling the driver", err)
	}
	if !strings.Contains(fmt.Sprint(errors.Join(ErrOutcomeUnknown)), "outcome unknown") {
		t.Error("ErrOutcomeUnknown's text")
	}
}

// droppingDriver is a fakeDriver with a Drop that waits for release and
// records, with every call, whether a Drop was running meanwhile.
type droppingDriver struct {
	*fakeDriver
	release chan struct{}
	started chan struct{}
	inDrop  atomic.Bool
	overlap atomic.Int64 // calls that began or ended while Drop ran
}

func (d *droppingDriver) Drop(context.Context) error {
	d.inDrop.Store(true)
	close(d.started)
	<-d.release
	d.inDrop.Store(false)
	return nil
}

func (d *droppingDriver) Commit(ctx context.Context, a *CommitAttempt) (Commit, error) {
	if d.inDrop.Load() {
		d.overlap.Add(1)
	}
	c, err := d.fakeDriver.Commit(ctx, a)
	if d.inDrop.Load() {
		d.overlap.Add(1)
	}
	return c, err
}

func TestDropRunsAlone(t *testing.T) {
	d := &droppingDriver{fakeDriver: &fakeDriver{block: make(chan struct{})},
		release: make(chan struct{}), started: make(chan struct{})}
	e, err := NewEngine("fake", d, WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// A call in progress: Drop waits for it.
	first := make(chan error)
	go func() {
		_, err := e.Commit(ctx, attemptFor("s", 1))
		first <- err
	}()
	for d.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	dropped := make(chan error)
	go func() { dropped <- e.Drop(ctx) }()
	select {
	case <-d.started:
		t.Fatal("Drop began while a commit was in progress")
	case <-time.After(50 * time.Millisecond):
	}
	close(d.block)
	if err := <-first; err != nil {
		t.Fatalf("the commit in progress: %v", err)
	}
	<-d.started
	// A call made while Drop runs waits for it.
	later := make(chan error)
	go func() {
		_, err := e.Commit(ctx, attemptFor("t", 1))
		later <- err
	}()
	select {
	case err := <-later:
		t.Fatalf("a commit returned while Drop ran (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(d.release)
	if err := <-dropped; err != nil {
		t.Fatalf("Drop: %v", err)
	}
	if err := <-later; err != nil {
		t.Fatalf("the commit after Drop: %v", err)
	}
	if n := d.overlap.Load(); n != 0 {
		t.Errorf("%d driver calls overlapped Drop", n)
	}
	if n := d.calls.Load(); n != 2 {
		t.Errorf("the driver saw %d commits, want 2", n)
	}
}
