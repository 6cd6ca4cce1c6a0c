package testserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// A Server is a running server of one kind: a container started by this package, or the external
// server named by EVENTSTORE_<KIND>_URL.
type Server struct {
	// Kind is MySQL, MariaDB, Mongo, S3, SeaweedFS or Azure.
	Kind string
	// URL is the server's base URL (see the package documentation); use Isolated for storage.
	URL string

	spec  *spec
	admin admin
	ctr   testcontainers.Container // nil for an external server

	mu      sync.Mutex
	stopped bool
}

// shared holds the servers of this test binary.
var shared struct {
	mu      sync.Mutex
	main    bool
	entries map[string]*entry // shared server per kind
	live    map[*Server]bool  // every server with a container, shared or dedicated
}

// entry is the shared server of one kind, started at most once.
type entry struct {
	once sync.Once
	srv  *Server
	skip string // why the server is unavailable; empty if it is
	err  error  // why it failed to start
}

// Main runs a package's tests (m.Run) and then terminates the servers they started, and returns the
// exit code. Servers are started lazily on first Get, once per test binary. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }
//
// Main also terminates the containers on SIGINT or SIGTERM, and shortly before the -timeout of
// `go test` would end the test binary without cleanup.
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.main = true
	shared.mu.Unlock()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			shutdown()
			os.Exit(1)
		}
	}()

	if !flag.Parsed() {
		flag.Parse()
	}
	if f := flag.Lookup("test.timeout"); f != nil {
		if d, ok := f.Value.(flag.Getter).Get().(time.Duration); ok && d > time.Minute {
			t := time.AfterFunc(d-10*time.Second, shutdown)
			defer t.Stop()
		}
	}

	code := m.Run()
	shutdown()
	return code
}

// Get returns the shared server of kind (MySQL, MariaDB, Mongo, S3, SeaweedFS or Azure), starting it
// on first use.
//
// If the server cannot be had (no Docker engine and no EVENTSTORE_<KIND>_URL, or an image that is
// absent and cannot be pulled), Get skips the test with one line saying how to enable it; but if
// EVENTSTORE_TEST_REQUIRE is "all" or lists kind, it fails the test instead. A server that should be
// there but does not start or answer always fails the test.
func Get(t testing.TB, kind string) *Server {
	t.Helper()
	sp := specFor(t, kind)
	shared.mu.Lock()
	if !shared.main {
		shared.mu.Unlock()
		t.Fatalf("testserver: Get needs testserver.Main: add func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) } to this package")
	}
	if shared.entries == nil {
		shared.entries = make(map[string]*entry)
	}
	e := shared.entries[kind]
	if e == nil {
		e = new(entry)
		shared.entries[kind] = e
	}
	shared.mu.Unlock()

	e.once.Do(func() {
		e.srv, e.skip, e.err = start(context.Background(), kind, sp, true)
	})
	switch {
	case e.skip != "":
		unavailable(t, kind, e.skip)
	case e.err != nil:
		t.Fatalf("testserver: %s server: %v", kind, e.err)
	}
	return e.srv
}

// Dedicated starts a server of kind for t alone, in a container even if EVENTSTORE_<KIND>_URL is
// set (outage tests stop and restart it), and terminates it when t ends. It skips or fails like Get.
func Dedicated(t testing.TB, kind string) *Server {
	t.Helper()
	sp := specFor(t, kind)
	s, skip, err := start(context.Background(), kind, sp, false)
	switch {
	case skip != "":
		unavailable(t, kind, skip)
	case err != nil:
		t.Fatalf("testserver: dedicated %s server: %v", kind, err)
	}
	t.Cleanup(s.terminate)
	return s
}

// Isolated returns a URL naming fresh storage of t's own on s: a new database (MySQL, MariaDB,
// Mongo), bucket (S3, SeaweedFS) or table name (Azure), removed when t ends. The forms are in the package
// documentation.
func (s *Server) Isolated(t testing.TB) string {
	t.Helper()
	name := newName()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.admin.create(ctx, name); err != nil {
		t.Fatalf("testserver: %s server: create %s: %v", s.Kind, name, err)
	}
	t.Cleanup(func() {
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if stopped {
			return // a stopped dedicated server goes away whole
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.admin.drop(ctx, name); err != nil {
			t.Errorf("testserver: %s server: remove %s: %v", s.Kind, name, err)
		}
	})
	return s.admin.isolated(name)
}

// Stop stops the server's container. Its URL becomes valid again after Start.
func (s *Server) Stop(ctx context.Context) error {
	if s.ctr == nil {
		return fmt.Errorf("testserver: cannot stop the external %s server %s", s.Kind, s.URL)
	}
	d := 5 * time.Second
	if err := s.ctr.Stop(ctx, &d); err != nil {
		return fmt.Errorf("testserver: stop %s server: %w", s.Kind, err)
	}
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	return nil
}

// Start restarts the server's container after Stop, on the same host port, and returns once the
// server answers.
func (s *Server) Start(ctx context.Context) error {
	if s.ctr == nil {
		return fmt.Errorf("testserver: cannot start the external %s server %s", s.Kind, s.URL)
	}
	if err := s.ctr.Start(ctx); err != nil {
		return fmt.Errorf("testserver: start %s server: %w", s.Kind, err)
	}
	if err := waitReady(ctx, s.admin, s.spec.ready, s.ctr); err != nil {
		return fmt.Errorf("testserver: start %s server: %w", s.Kind, err)
	}
	s.mu.Lock()
	s.stopped = false
	s.mu.Unlock()
	return nil
}

// Pause freezes the server's container (docker pause): connections stay
// open and requests are accepted but never answered, as with a hung server.
// Unpause resumes it.
func (s *Server) Pause(ctx context.Context) error {
	return s.pause(ctx, true)
}

// Unpause resumes a server paused by Pause; requests sent meanwhile are then
// served.
func (s *Server) Unpause(ctx context.Context) error {
	return s.pause(ctx, false)
}

func (s *Server) pause(ctx context.Context, pause bool) error {
	what := map[bool]string{true: "pause", false: "unpause"}[pause]
	if s.ctr == nil {
		return fmt.Errorf("testserver: cannot %s the external %s server %s", what, s.Kind, s.URL)
	}
	dc, err := dockerClient(ctx)
	if err != nil {
		return fmt.Errorf("testserver: %s %s server: %w", what, s.Kind, err)
	}
	if pause {
		_, err = dc.ContainerPause(ctx, s.ctr.GetContainerID(), client.ContainerPauseOptions{})
	} else {
		_, err = dc.ContainerUnpause(ctx, s.ctr.GetContainerID(), client.ContainerUnpauseOptions{})
	}
	if err != nil {
		return fmt.Errorf("testserver: %s %s server: %w", what, s.Kind, err)
	}
	s.mu.Lock()
	s.stopped = pause // a paused dedicated server goes away whole, like a stopped one
	s.mu.Unlock()
	return nil
}

// start returns a ready server of kind, or the reason it is unavailable (skip), or an error.
func start(ctx context.Context, kind string, sp *spec, external bool) (s *Server, skip string, err error) {
	uv := urlVar(kind)
	if base := os.Getenv(uv); external && base != "" {
		a, err := sp.open(base)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", uv, err)
		}
		if err := waitReady(ctx, a, 30*time.Second, nil); err != nil {
			a.close()
			return nil, "", fmt.Errorf("%s=%s: %w", uv, base, err)
		}
		return &Server{Kind: kind, URL: base, spec: sp, admin: a}, "", nil
	}

	dc, err := dockerClient(ctx)
	if err != nil && !external {
		return nil, fmt.Sprintf("a dedicated server needs a container, and no Docker engine answers (%s): run `make test` or start Docker (docs/testing.md)",
			firstLine(err.Error())), nil
	}
	if err != nil {
		return nil, fmt.Sprintf("no Docker engine answers (%s) and %s is unset: run `make test`, start Docker, or set %s=%s (docs/testing.md)",
			firstLine(err.Error()), uv, uv, sp.example), nil
	}
	img, sub := image(kind)
	err = ensureImage(ctx, dc, img)
	var ni *errNoImage
	if errors.As(err, &ni) && sub != "" {
		if _, serr := dc.ImageInspect(ctx, sub); serr == nil {
			img, err = sub, nil // built by scripts/test-images.sh on a machine without a registry
		}
	}
	if err != nil {
		if errors.As(err, &ni) {
			return nil, fmt.Sprintf("%v: run scripts/test-images.sh (or `make test`) to build a local substitute, or set %s or %s (docs/testing.md)",
				err, imageVar(kind), uv), nil
		}
		return nil, "", err
	}
	ctr, port, err := run(ctx, kind, img)
	if err != nil {
		return nil, "", err
	}
	s = &Server{Kind: kind, URL: sp.base(port), spec: sp, ctr: ctr}
	shared.mu.Lock()
	if shared.live == nil {
		shared.live = make(map[*Server]bool)
	}
	shared.live[s] = true
	shared.mu.Unlock()
	if s.admin, err = sp.open(s.URL); err == nil {
		err = waitReady(ctx, s.admin, sp.ready, ctr)
	}
	if err != nil {
		logs := logTail(ctx, ctr)
		s.terminate()
		return nil, "", fmt.Errorf("%s from %s: %w\n%s", kind, img, err, logs)
	}
	return s, "", nil
}

// waitReady pings the server until it answers, for at most d. It gives up early if the container
// exits.
func waitReady(ctx context.Context, a admin, d time.Duration, ctr testcontainers.Container) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		err := a.ping(pctx)
		pcancel()
		if err == nil {
			return nil
		}
		if ctr != nil {
			if st, serr := ctr.State(ctx); serr == nil && !st.Running {
				return fmt.Errorf("container exited with status %d: %w", st.ExitCode, err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer within %v: %w", d, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// terminate closes the administrative connection and removes the container, if any.
func (s *Server) terminate() {
	if s.admin != nil {
		s.admin.close()
	}
	if s.ctr == nil {
		return
	}
	shared.mu.Lock()
	live := shared.live[s]
	delete(shared.live, s)
	shared.mu.Unlock()
	if live {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = s.ctr.Terminate(ctx, testcontainers.StopTimeout(0))
	}
}

// shutdown terminates every container of this test binary.
func shutdown() {
	shared.mu.Lock()
	servers := make([]*Server, 0, len(shared.live))
	for s := range shared.live {
		servers = append(servers, s)
	}
	shared.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Go(s.terminate)
	}
	wg.Wait()
}

// unavailable skips t, or fails it if EVENTSTORE_TEST_REQUIRE asks for kind.
func unavailable(t testing.TB, kind, reason string) {
	t.Helper()
	msg := "testserver: no " + kind + " server: " + reason
	if required(kind) {
		t.Fatalf("%s [%s=%s makes this a failure]", msg, envRequire, os.Getenv(envRequire))
	}
	logSkip(msg)
	t.Skip(msg)
}

// logSkip appends msg, with the package directory, to the file named by EVENTSTORE_TEST_SKIPLOG:
// `go test ./...` shows nothing of a passing package, so scripts/test.sh prints these lines at the
// end, and a skipped engine suite is never silent.
func logSkip(msg string) {
	name := os.Getenv(envSkipLog)
	if name == "" {
		return
	}
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	dir, _ := os.Getwd()
	fmt.Fprintf(f, "%s: %s\n", dir, msg)
}

func specFor(t testing.TB, kind string) *spec {
	t.Helper()
	sp, ok := specs[kind]
	if !ok {
		t.Fatalf("testserver: unknown kind %q (want one of %q)", kind, Kinds)
	}
	return sp
}

// newName returns a fresh name valid as a MySQL or MongoDB database, an S3 bucket and an Azure
// table: "es" and 16 lowercase hex digits.
func newName() string {
	var b [8]byte
	rand.Read(b[:])
	return "es" + hex.EncodeToString(b[:])
}
