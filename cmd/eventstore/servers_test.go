package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds the command once per test run, for tests that stop it the
// way an operator does (Ctrl-C, kill -9).
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "eventstore-cli")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "eventstore")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// openURL opens and initializes an engine for the test, closed at cleanup.
func openURL(t testing.TB, url string) *persistence.Engine {
	t.Helper()
	ctx := context.Background()
	e, err := persistence.OpenURL(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(ctx) })
	if err := e.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// seedServer writes commits to streams of two buckets with 4 writers, and
// marks the first half dispatched: the state a live store is in.
func seedServer(t testing.TB, e *persistence.Engine, streams, perStream int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := w; s < streams; s += 4 {
				bucket := []string{"default", "tenant-7"}[s%2]
				if err := seed(e, bucket, fmt.Sprintf("stream-%d", s), perStream, nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ctx := context.Background()
	head, err := e.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var first []persistence.Commit
	for c, err := range e.Undispatched(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Checkpoint <= head/2 {
			first = append(first, c)
		}
	}
	if err := e.MarkDispatchedBatch(ctx, first); err != nil {
		t.Fatal(err)
	}
}

// started is a running eventstore process.
type started struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
}

func start(t *testing.T, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(binary(t), args...)}
	s.cmd.Env = os.Environ()
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.err
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// wait returns the exit status.
func (s *started) wait() int {
	err := s.cmd.Wait()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// startPaced starts the binary with the writer slowed down to at most 200
// commits/s, so that it is still copying when the test stops it.
func startPaced(t *testing.T, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(binary(t), args...)}
	s.cmd.Env = append(os.Environ(), "EVENTSTORE_TEST_PACE=5ms")
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.err
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// runBin runs the binary to the end.
func runBin(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	s := start(t, args...)
	code := s.wait()
	return s.out.String(), s.err.String(), code
}

// waitLines waits until the file has at least n lines.
func waitLines(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(path)
		if bytes.Count(b, []byte("\n")) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not reach %d lines", path, n)
}

func undispatched(t *testing.T, e *persistence.Engine) map[eventstore.UUID]bool {
	t.Helper()
	m := map[eventstore.UUID]bool{}
	for c, err := range e.Undispatched(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		m[c.CommitID] = true
	}
	return m
}

// Copy MySQL (MariaDB) to Mongo (FerretDB) with the binary, stopped twice
// in the middle (Ctrl-C, then kill -9), resumed, verified; then back to a
// fresh MySQL database, and through an export file.
func TestCopyAcrossServers(t *testing.T) {
	mysqlURL := testserver.Get(t, testserver.MariaDB).Isolated(t)
	mongoURL := testserver.Get(t, testserver.Mongo).Isolated(t)
	src := openURL(t, mysqlURL)
	begin := time.Now()
	step := func(what string) { t.Logf("%6.1fs %s", time.Since(begin).Seconds(), what) }
	seedServer(t, src, 40, 25) // 1,000 commits
	step("seeded")
	dst := openURL(t, mongoURL)
	dir := t.TempDir()
	mapPath := filepath.Join(dir, "map.jsonl")
	args := []string{"copy", "--from", mysqlURL, "--to", mongoURL, "--map", mapPath}

	// Ctrl-C: stops between two commits, says how to go on
	p := startPaced(t, args...)
	waitLines(t, mapPath, 200)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(); code != exitError {
		t.Fatalf("after Ctrl-C: exit %d\n%s", code, &p.err)
	}
	if !strings.Contains(p.err.String(), "interrupted after") || !strings.Contains(p.err.String(), "--resume") {
		t.Fatalf("after Ctrl-C the copy says:\n%s", &p.err)
	}
	n := checkMap(t, mapPath, src, dst)
	if got := count(t, dst); got != n {
		t.Fatalf("after Ctrl-C the target holds %d commits and the map %d: the map must record every commit written", got, n)
	}

	step("Ctrl-C")
	// kill -9: whatever was written stays, the map may lag behind
	p = startPaced(t, append(args, "--resume")...)
	waitLines(t, mapPath, n+200)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait()
	written := count(t, dst)
	if written < n+199 {
		t.Fatalf("after kill -9 the target holds %d commits, want at least %d", written, n+199)
	}

	step("kill -9")
	out, errs, code := runBin(t, append(args, "--resume", "--verify", "-o", "json")...)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, `"differences":0`) || !strings.Contains(out, `"verified_streams":40`) {
		t.Fatalf("resume --verify reported:\n%s", out)
	}
	if !strings.Contains(errs, "copy: ") {
		t.Errorf("no progress lines on stderr (not a terminal):\n%s", errs)
	}
	if got := checkMap(t, mapPath, src, dst); got != 1000 {
		t.Fatalf("the map holds %d lines, want 1000", got)
	}
	step("resumed and verified")
	// the dispatch state travelled: exactly the source's undispatched
	// commits are undispatched in the target
	su, du := undispatched(t, src), undispatched(t, dst)
	if len(su) != 500 || len(du) != len(su) {
		t.Fatalf("undispatched: %d in the source, %d in the target", len(su), len(du))
	}
	for id := range su {
		if !du[id] {
			t.Fatalf("commit %s undispatched in the source, dispatched in the target", id)
		}
	}

	// and back, into a fresh MySQL database
	back := testserver.Get(t, testserver.MariaDB).Isolated(t)
	out, errs, code = runBin(t, "copy", "-q", "--from", mongoURL, "--to", back, "--map", filepath.Join(dir, "back.jsonl"), "--verify")
	if code != 0 || !strings.Contains(out, "verified 40 streams") {
		t.Fatalf("copy back: exit %d\n%s%s", code, out, errs)
	}
	step("copied back")
	// the round trip kept every byte
	a, _, errb := testApp(&memStores{}, dir, func(string) string { return "" })
	if code := a.run(context.Background(), []string{"copy", "-q", "--from", mysqlURL, "--to", back, "--map", "again.jsonl", "--verify"}); code != 0 {
		t.Fatalf("source and round trip differ: exit %d\n%s", code, errb)
	}

	step("round trip compared")
	// export from MySQL, import into a fresh Mongo database with a kill in
	// the middle
	file := filepath.Join(dir, "events.jsonl.gz")
	if out, errs, code := runBin(t, "export", "-q", "--store", mysqlURL, "--to", file); code != 0 {
		t.Fatalf("export: exit %d\n%s%s", code, out, errs)
	}
	step("exported")
	mongo2 := testserver.Get(t, testserver.Mongo).Isolated(t)
	imap := filepath.Join(dir, "import.jsonl")
	p = startPaced(t, "import", "--from", file, "--store", mongo2, "--map", imap)
	waitLines(t, imap, 300)
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait()
	step("import killed")
	out, errs, code = runBin(t, "import", "-q", "--from", file, "--store", mongo2, "--map", imap, "--resume", "--verify")
	if code != 0 || !strings.Contains(out, "verified 40 streams") {
		t.Fatalf("import --resume: exit %d\n%s%s", code, out, errs)
	}
	step("import resumed and verified")
	if got := checkMap(t, imap, src, openURL(t, mongo2)); got != 1000 {
		t.Fatalf("import map holds %d lines", got)
	}
}

// tail --follow prints commits as they land, in checkpoint order, each
// once, until interrupted: in memory and on real servers.
func TestTailFollow(t *testing.T) {
	for _, kind := range []string{"memory", testserver.MariaDB, testserver.Mongo, testserver.S3, testserver.Azure} {
		t.Run(kind, func(t *testing.T) {
			ms := &memStores{}
			url := "memory://follow"
			if kind != "memory" {
				url = testserver.Get(t, kind).Isolated(t)
			}
			e, err := ms.open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			if kind != "memory" {
				t.Cleanup(func() { e.Close(context.Background()) })
				if err := e.Initialize(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if err := seed(e, "default", "before", 3, nil); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			a, out, errb := testApp(ms, "", func(string) string { return "" })
			done := make(chan int)
			var mu sync.Mutex
			a.stdout = &lockedWriter{mu: &mu, w: out}
			go func() {
				done <- a.run(ctx, []string{"tail", "--follow", "--after", "0", "--poll", "20ms", "-o", "json", "--store", url})
			}()
			var wg sync.WaitGroup
			for w := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := seed(e, "default", fmt.Sprintf("live-%d", w), 10, nil); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			deadline := time.Now().Add(time.Minute)
			for {
				mu.Lock()
				n := strings.Count(out.String(), "\n")
				mu.Unlock()
				if n >= 33 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // nothing more may come
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("tail --follow ended with %d\n%s", code, errb)
			}
			var last int64
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 33 {
				t.Fatalf("tail printed %d commits, want 33", len(lines))
			}
			for _, l := range lines {
				var cp int64
				if _, err := fmt.Sscanf(l, `{"checkpoint":%d`, &cp); err != nil || cp <= last {
					t.Fatalf("line %q after checkpoint %d", l, last)
				}
				last = cp
			}

			// without --after, following starts at the head
			ctx, cancel = context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			a, out, errb = testApp(ms, "", func(string) string { return "" })
			if code := a.run(ctx, []string{"tail", "--follow", "--poll", "20ms", "--store", url}); code != 0 || out.Len() != 0 {
				t.Fatalf("tail --follow from the head: exit %d, printed:\n%s%s", code, out, errb)
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// An unreachable server is exit status 1 with a hint, and nothing else
// happens.
func TestUnreachable(t *testing.T) {
	a, _, errb := testApp(&memStores{}, "", func(string) string { return "" })
	code := a.run(context.Background(), []string{"stats", "-q", "--timeout", "1s", "--store", "mysql://root@127.0.0.1:1/events"})
	if code != exitError || !strings.Contains(errb.String(), "hint: the server did not answer") {
		t.Fatalf("exit %d\n%s", code, errb)
	}
}

// Copy into every server engine linked into the binary and back, with the
// dispatch state and snapshots, verified both ways. S3 and Azure Tables
// join as soon as engines.go imports them.
func TestCopyEveryEngine(t *testing.T) {
	schemes := map[string]string{testserver.MariaDB: "mysql", testserver.Mongo: "mongodb", testserver.S3: "s3", testserver.Azure: "azuretables"}
	for _, kind := range []string{testserver.MariaDB, testserver.Mongo, testserver.S3, testserver.Azure} {
		if !slices.Contains(persistence.Engines(), schemes[kind]) {
			continue // not linked into this build
		}
		t.Run(kind, func(t *testing.T) {
			ms := &memStores{}
			src := ms.get(t, "src")
			for i := range 6 {
				if err := seed(src, []string{"default", "tenant-7"}[i%2], fmt.Sprint("s", i), 5, nil); err != nil {
					t.Fatal(err)
				}
			}
			st := eventstore.New(src, eventstore.Options{})
			if err := st.AddSnapshot(context.Background(), eventstore.Snapshot{StreamID: "s0", StreamRevision: 6, Payload: map[string]any{"n": 6}}); err != nil {
				t.Fatal(err)
			}
			if err := src.MarkDispatched(context.Background(), firstCommit(t, src)); err != nil {
				t.Fatal(err)
			}
			url := testserver.Get(t, kind).Isolated(t)
			target := openURL(t, url)
			snaps := target.Supports(persistence.Snapshots)
			dispatch := target.Supports(persistence.Dispatch)
			dir := t.TempDir()
			for _, args := range [][]string{
				{"copy", "-q", "--from", "memory://src", "--to", url, "--map", "to.jsonl", "--verify"},
				{"copy", "-q", "--from", url, "--to", "memory://back", "--map", "back.jsonl", "--verify"},
			} {
				if snaps {
					args = append(args, "--snapshots")
				}
				a, out, errb := testApp(ms, dir, func(string) string { return "" })
				if code := a.run(context.Background(), args); code != 0 {
					t.Fatalf("%v: exit %d\n%s%s", args, code, out, errb)
				}
				if !strings.Contains(out.String(), "copied 30 commits") || !strings.Contains(out.String(), "verified 6 streams") ||
					snaps && !strings.Contains(out.String(), "1 snapshots") {
					t.Fatalf("%v:\n%s", args, out)
				}
			}
			back := ms.get(t, "back")
			if dispatch {
				if got := len(undispatched(t, back)); got != 29 {
					t.Fatalf("%d commits undispatched after the round trip, want 29", got)
				}
			}
			if snaps {
				s, err := back.LatestSnapshot(context.Background(), "default", "s0", 0)
				if err != nil || s.StreamRevision != 6 {
					t.Fatalf("snapshot after the round trip: %+v, %v", s, err)
				}
			}
		})
	}
}

func firstCommit(t *testing.T, e *persistence.Engine) persistence.Commit {
	for c, err := range e.ReadAll(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Fatal("no commit")
	return persistence.Commit{}
}
