package crashtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
	_ "github.com/goeventstore/eventstore/persistence/azuretables"
	_ "github.com/goeventstore/eventstore/persistence/mongo" // the engines under test
	_ "github.com/goeventstore/eventstore/persistence/mysql"
	_ "github.com/goeventstore/eventstore/persistence/s3"
)

// engines lists the engines the crash tests run on, by testserver kind: one
// line per engine (and a blank import of its package above). backlog is
// how many commits TestBacklog leaves undispatched: thousands where the
// server marks them dispatched in seconds (FerretDB, the Mongo stand-in
// here, takes minutes for 2,000).
var engines = []struct {
	name, kind string
	backlog    int
}{
	{"MariaDB", testserver.MariaDB, 2000},
	{"MySQL", testserver.MySQL, 2000},
	{"Mongo", testserver.Mongo, 200},
	{"S3", testserver.S3, 200},
	{"Azure", testserver.Azure, 200},
}

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runRole(role)) // a child process of a crash test
	}
	os.Exit(testserver.Main(m))
}

// Shape of a crash run: writers x goroutines, for runFor (overridden by
// EVENTSTORE_CRASH_SECONDS), a writer killed every killEvery on average.
const (
	writers    = 3
	goroutines = 3
	runFor     = 15 * time.Second
	killEvery  = 1500 * time.Millisecond
)

// duration is how long writers run: runFor, or EVENTSTORE_CRASH_SECONDS.
func duration(t *testing.T) time.Duration {
	if s := os.Getenv("EVENTSTORE_CRASH_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("EVENTSTORE_CRASH_SECONDS=%q: want a positive number of seconds", s)
		}
		return time.Duration(n) * time.Second
	}
	return runFor
}

// withOpTimeout gives the child processes' engines a 30 s operation
// timeout instead of the 5 s default: on a machine loaded by other tests,
// a restarted writer's first reads have taken longer than 5 s, and the
// test is about crashes, not about slow servers (RunOutage covers those).
func withOpTimeout(url string) string {
	if strings.Contains(url, "?") {
		return url + "&op_timeout=30s"
	}
	return url + "?op_timeout=30s"
}

// TestCrash runs writer processes committing to private streams with
// asynchronous dispatch, and a poller process reading from its checkpoint,
// on one database; writers are SIGKILLed at random (their dispatch queues
// full) and restarted at once, the poller once. Then every writer is
// killed and a fresh process dispatches what is left. It checks: no
// acknowledged commit lost, no commit stored twice, streams contiguous,
// every stored commit dispatched (at least once) and nothing left
// undispatched, and the poller saw every commit exactly once, in strictly
// increasing checkpoint order.
func TestCrash(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			crash(t, testserver.Get(t, eng.kind).Isolated(t))
		})
	}
}

func crash(t *testing.T, url string) {
	ctx := context.Background()
	dir := t.TempDir()
	e, err := persistence.OpenURL(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if err := e.Initialize(ctx); err != nil { // once, before the processes share it
		t.Fatal(err)
	}
	procs := &children{t: t, dir: dir, url: withOpTimeout(url)}
	defer procs.killAll()

	poller := procs.start(rolePoller, "")
	ws := make([]*child, writers)
	for i := range ws {
		ws[i] = procs.start(roleWriter, strconv.Itoa(i))
	}
	end := time.Now().Add(duration(t))
	kills, pollerKilled := 0, false
	for time.Now().Before(end) {
		time.Sleep(time.Duration(rand.Int64N(int64(2 * killEvery))))
		procs.checkAlive()
		i := rand.IntN(len(ws))
		ws[i].kill()
		ws[i] = procs.start(roleWriter, strconv.Itoa(i))
		kills++
		if !pollerKilled && time.Until(end) < duration(t)/2 {
			poller.kill()
			poller = procs.start(rolePoller, "")
			pollerKilled = true
		}
	}
	procs.checkAlive()
	for _, w := range ws {
		w.kill()
	}
	settle(t, e)
	left := count(t, e.Undispatched(ctx))
	t.Logf("%d writer kills (and one poller kill); %d commits left undispatched by the last kill", kills, left)
	if left == 0 {
		t.Errorf("the last kill left nothing undispatched: the writers' dispatch was not under way (dispatchDelay too short for this engine?)")
	}

	// A bound, not a speed check: on FerretDB/SQLite every mark is a pass
	// over the collection, and with nearly all of ~1,000 commits left
	// undispatched the drain took over 2 minutes once while the whole
	// suite ran beside it (98 s for the test alone).
	procs.run(roleDrainer, 5*time.Minute)
	if n := count(t, e.Undispatched(ctx)); n != 0 {
		t.Errorf("%d commits still undispatched after a restart drained dispatch", n)
	}

	stored := readAll(t, e)
	waitPolled(t, filepath.Join(dir, "polled.log"), len(stored))
	poller.kill()
	check(t, dir, stored)
}

// settle waits until the store stops changing: a writer killed after it
// sent an insert leaves it to the server, which may apply it seconds later
// (FerretDB/SQLite serializes writes, and a drain's marks queue beside
// it). A commit landing after the drainer's pass would be left to the
// store's next sweep, a minute later, and so look never dispatched here.
func settle(t *testing.T, e *persistence.Engine) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	stored := func() int { // the commits stored; -1 if the server did not answer in time
		n := 0
		for _, err := range e.ReadAll(context.Background(), 0) {
			if err != nil {
				t.Logf("settle: %v", err)
				return -1
			}
			n++
		}
		return n
	}
	last := stored()
	for {
		time.Sleep(2 * time.Second)
		n := stored()
		if n == last && n >= 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store still changes a minute after the writers were killed: %d commits, then %d", last, n)
		}
		if n > last && last >= 0 {
			t.Logf("a killed writer's commit landed after the kill: %d commits, then %d", last, n)
		}
		last = n
	}
}

// storedCommit is what the checks need of a stored commit.
type storedCommit struct {
	stream     string
	seq, rev   int
	checkpoint int64
}

func readAll(t *testing.T, e *persistence.Engine) map[string]storedCommit {
	t.Helper()
	out := map[string]storedCommit{}
	for c, err := range e.ReadAll(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		id := c.CommitID.String()
		if prev, dup := out[id]; dup {
			t.Errorf("commit %s stored twice: stream %s sequence %d and stream %s sequence %d", id, prev.stream, prev.seq, c.StreamID, c.CommitSequence)
		}
		out[id] = storedCommit{c.StreamID, c.CommitSequence, c.StreamRevision, c.Checkpoint}
	}
	return out
}

func count(t *testing.T, seq func(func(persistence.Commit, error) bool)) int {
	t.Helper()
	n := 0
	for _, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// waitPolled waits until the poller has recorded want commits.
func waitPolled(t *testing.T, path string, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		lines, err := readLines(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the poller recorded %d commits of %d", len(lines), want)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// check compares the records of the processes with what is stored.
func check(t *testing.T, dir string, stored map[string]storedCommit) {
	t.Helper()
	// Streams: commit sequences 1..n, one event each.
	streams := map[string][]int{}
	for _, c := range stored {
		streams[c.stream] = append(streams[c.stream], c.seq)
		if c.rev != c.seq {
			t.Errorf("stream %s: commit sequence %d has revision %d, want %d (one event per commit)", c.stream, c.seq, c.rev, c.seq)
		}
	}
	for s, seqs := range streams {
		slices.Sort(seqs)
		for i, seq := range seqs {
			if seq != i+1 {
				t.Errorf("stream %s: commit sequences %v are not 1..%d", s, seqs, len(seqs))
				break
			}
		}
	}

	// Acknowledged commits: all stored.
	acked := 0
	for i := range writers {
		lines, err := readLines(filepath.Join(dir, fmt.Sprintf("acked-%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range lines {
			acked++
			if _, ok := stored[id]; !ok {
				t.Errorf("acknowledged commit %s (writer %d) is not stored", id, i)
			}
		}
	}

	// Dispatch: every stored commit at least once, nothing else.
	files, err := filepath.Glob(filepath.Join(dir, "dispatched-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	dispatched := map[string]int{}
	deliveries := 0
	for _, f := range files {
		lines, err := readLines(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range lines {
			dispatched[id]++
			deliveries++
			if _, ok := stored[id]; !ok {
				t.Errorf("dispatched commit %s (%s) is not stored", id, filepath.Base(f))
			}
		}
	}
	for id, c := range stored {
		if dispatched[id] == 0 {
			t.Errorf("stored commit %s (stream %s sequence %d, checkpoint %d) was never dispatched", id, c.stream, c.seq, c.checkpoint)
		}
	}

	// The poller: each stored commit once, in strictly increasing
	// checkpoint order, across its restart.
	lines, err := readLines(filepath.Join(dir, "polled.log"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var last int64
	for i, l := range lines {
		cpText, id, _ := strings.Cut(l, " ")
		cp, err := strconv.ParseInt(cpText, 10, 64)
		if err != nil {
			t.Fatalf("polled.log line %d: %q", i+1, l)
		}
		if cp <= last {
			t.Errorf("poller: checkpoint %d after %d (line %d)", cp, last, i+1)
		}
		last = cp
		if seen[id] {
			t.Errorf("poller: commit %s seen twice", id)
		}
		seen[id] = true
		if c, ok := stored[id]; !ok {
			t.Errorf("poller: commit %s is not stored", id)
		} else if c.checkpoint != cp {
			t.Errorf("poller: commit %s at checkpoint %d, stored at %d", id, cp, c.checkpoint)
		}
	}
	for id := range stored {
		if !seen[id] {
			t.Errorf("poller: stored commit %s never seen", id)
		}
	}
	t.Logf("%d commits stored in %d streams, %d acknowledged; %d deliveries (%d redelivered); the poller saw %d",
		len(stored), len(streams), acked, deliveries, deliveries-len(dispatched), len(lines))
}

// children starts and watches the child processes of a crash test.
type children struct {
	t     *testing.T
	dir   string
	url   string
	n     int
	procs []*child
}

// child is a running child process.
type child struct {
	name   string
	log    string
	cmd    *exec.Cmd
	killed atomic.Bool
	done   chan struct{}
	err    error // once done
}

// start starts the test binary as a child of role (writer id for writers).
func (cs *children) start(role, id string) *child {
	cs.t.Helper()
	cs.n++
	name := role + id
	c := &child{name: name, log: filepath.Join(cs.dir, fmt.Sprintf("%s.%d.stderr", name, cs.n)), done: make(chan struct{})}
	f, err := os.Create(c.log)
	if err != nil {
		cs.t.Fatal(err)
	}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(),
		roleEnv+"="+role, urlEnv+"="+cs.url, dirEnv+"="+cs.dir, idEnv+"="+id,
		goroutinesEnv+"="+strconv.Itoa(goroutines))
	c.cmd.Stdout, c.cmd.Stderr = f, f
	if err := c.cmd.Start(); err != nil {
		f.Close()
		cs.t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		f.Close()
		close(c.done)
	}()
	cs.procs = append(cs.procs, c)
	return c
}

// kill SIGKILLs c and waits for it to end.
func (c *child) kill() {
	c.killed.Store(true)
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// checkAlive fails the test if a child ended without being killed.
func (cs *children) checkAlive() {
	cs.t.Helper()
	for _, c := range cs.procs {
		select {
		case <-c.done:
			if !c.killed.Load() {
				cs.t.Fatalf("%s ended on its own (%v):\n%s", c.name, c.err, tail(c.log))
			}
		default:
		}
	}
}

// run runs a child of role to its end, within timeout, and fails the test
// if it fails.
func (cs *children) run(role string, timeout time.Duration) {
	cs.t.Helper()
	c := cs.start(role, "")
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.kill()
		cs.t.Fatalf("%s did not end within %v:\n%s", role, timeout, tail(c.log))
	}
	if c.err != nil {
		cs.t.Fatalf("%s: %v:\n%s", role, c.err, tail(c.log))
	}
}

// killAll kills every child still running.
func (cs *children) killAll() {
	for _, c := range cs.procs {
		select {
		case <-c.done:
		default:
			c.kill()
		}
	}
}

// tail returns the end of a child's output.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
