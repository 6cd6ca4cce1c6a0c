package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/contrib/sqlite"
	"github.com/goeventstore/eventstore/persistence"
)

func TestAcceptance(t *testing.T) {
	acceptance.Run(t, acceptance.Harness{
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			return sqlite.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "events.db"), opts...)
		},
		PageSize: 3,
		Features: acceptance.AllFeatures,
	})
}

// open opens and initializes an engine on dataSource, closed at cleanup.
func open(t *testing.T, dataSource string, opts ...persistence.Option) *persistence.Engine {
	t.Helper()
	e, err := persistence.OpenURL(t.Context(), dataSource, opts...)
	if err != nil {
		t.Fatalf("OpenURL(%q): %v", dataSource, err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	if err := e.Initialize(t.Context()); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	return e
}

func attempt(bucket, stream string, seq int) *persistence.CommitAttempt {
	return &persistence.CommitAttempt{BucketID: bucket, StreamID: stream, StreamRevision: seq,
		CommitID: persistence.NewUUID(), CommitSequence: seq, CommitStamp: time.Now().UTC().Truncate(time.Microsecond),
		EventCount: 1, Payload: fmt.Appendf(nil, `{"seq":%d}`, seq)}
}

func readAll(t *testing.T, e *persistence.Engine, after int64) []persistence.Commit {
	t.Helper()
	var cs []persistence.Commit
	for c, err := range e.ReadAll(t.Context(), after) {
		if err != nil {
			t.Fatalf("ReadAll(%d): %v", after, err)
		}
		cs = append(cs, c)
	}
	return cs
}

// TestTwoEnginesOneFile: two engines (two pools, as two processes would
// have) on one file race commits on one stream while a poller on a third
// reads everything after the last checkpoint it saw. Exactly one writer wins
// each sequence, the others get ErrConcurrency, and the poller sees every
// winner once, in checkpoint order.
func TestTwoEnginesOneFile(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "shared.db") + "?page_size=4"
	a, b, p := open(t, url), open(t, url), open(t, url)
	const rounds, racers = 40, 6

	done := make(chan struct{})
	seen := make(chan []persistence.Commit)
	go func() { // the poller
		var got []persistence.Commit
		var last int64
		for finished := false; ; {
			select {
			case <-done:
				finished = true
			default:
			}
			for c, err := range p.ReadAll(context.Background(), last) {
				if err != nil {
					t.Errorf("poller: %v", err)
					break
				}
				got, last = append(got, c), c.Checkpoint
			}
			if finished { // one last read after the writers stopped
				seen <- got
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()

	var winners []persistence.Commit
	for seq := 1; seq <= rounds; seq++ {
		var mu sync.Mutex
		var wg sync.WaitGroup
		won := 0
		for i := range racers {
			e := a
			if i%2 == 1 {
				e = b
			}
			wg.Go(func() {
				c, err := e.Commit(t.Context(), attempt("b", "contended", seq))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
					winners = append(winners, c)
				case !errors.Is(err, persistence.ErrConcurrency):
					t.Errorf("sequence %d: %v, want ErrConcurrency", seq, err)
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("sequence %d: %d winners, want 1", seq, won)
		}
	}
	close(done)
	got := <-seen
	if len(got) != len(winners) {
		t.Fatalf("poller saw %d commits, want %d", len(got), len(winners))
	}
	for i, c := range got {
		if c.CommitSequence != i+1 || c.CommitID != winners[i].CommitID || c.Checkpoint != winners[i].Checkpoint {
			t.Fatalf("poller's commit %d: sequence %d checkpoint %d, want the winner of sequence %d (checkpoint %d)",
				i, c.CommitSequence, c.Checkpoint, i+1, winners[i].Checkpoint)
		}
	}
}

// TestCheckpointsNotReusedAfterPurge: AUTOINCREMENT keeps the high-water
// mark through Purge (the acceptance suite allows a restart there; this
// engine does better).
func TestCheckpointsNotReusedAfterPurge(t *testing.T) {
	e := open(t, "sqlite://"+filepath.Join(t.TempDir(), "purge.db"))
	var last persistence.Commit
	for seq := 1; seq <= 3; seq++ {
		c, err := e.Commit(t.Context(), attempt("b", "s", seq))
		if err != nil {
			t.Fatal(err)
		}
		last = c
	}
	if err := e.Purge(t.Context()); err != nil {
		t.Fatal(err)
	}
	if h, err := e.Head(t.Context()); err != nil || h != 0 {
		t.Fatalf("Head after Purge = %d, %v; want 0", h, err)
	}
	c, err := e.Commit(t.Context(), attempt("b", "s", 1))
	if err != nil {
		t.Fatal(err)
	}
	if c.Checkpoint <= last.Checkpoint {
		t.Fatalf("checkpoint after Purge = %d, want above %d", c.Checkpoint, last.Checkpoint)
	}
	if h, err := e.Head(t.Context()); err != nil || h != c.Checkpoint {
		t.Fatalf("Head = %d, %v; want %d", h, err, c.Checkpoint)
	}
}

// TestErrorClasses: the classifier's mapping, on real failures.
func TestErrorClasses(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()

	missing, err := sqlite.Open(ctx, "sqlite://"+filepath.Join(dir, "no-such-dir", "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer missing.Close(ctx)
	if err := missing.Initialize(ctx); !errors.Is(err, persistence.ErrMisconfigured) {
		t.Errorf("Initialize in a missing directory: %v, want ErrMisconfigured", err)
	}

	path := filepath.Join(dir, "x.db")
	fresh, err := sqlite.Open(ctx, "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close(ctx)
	for _, err := range fresh.ReadAll(ctx, 0) {
		if !errors.Is(err, persistence.ErrNotInitialized) {
			t.Errorf("ReadAll before Initialize: %v, want ErrNotInitialized", err)
		}
	}

	open(t, "sqlite://"+path)
	ro, err := sqlite.Open(ctx, "sqlite://"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close(ctx)
	if _, err := ro.Commit(ctx, attempt("b", "s", 1)); !errors.Is(err, persistence.ErrPermissionDenied) {
		t.Errorf("Commit on a read-only connection: %v, want ErrPermissionDenied", err)
	}

	// Another connection holds the write lock longer than the busy timeout.
	busy := open(t, "sqlite://"+path+"?_busy_timeout=50")
	var db *sql.DB
	if !busy.As(&db) {
		t.Fatal("As(**sql.DB) = false")
	}
	holder, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK")
	if _, err := busy.Commit(ctx, attempt("b", "s", 1)); !errors.Is(err, persistence.ErrStorageUnavailable) {
		t.Errorf("Commit while another connection writes: %v, want ErrStorageUnavailable", err)
	}
}

// TestMemoryAndNew: sqlite://:memory: works (one shared connection), and
// New runs over a pool the caller keeps.
func TestMemoryAndNew(t *testing.T) {
	ctx := t.Context()
	mem := open(t, "sqlite://:memory:?page_size=2")
	for seq := 1; seq <= 5; seq++ {
		if _, err := mem.Commit(ctx, attempt("b", "s", seq)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(readAll(t, mem, 0)); n != 5 {
		t.Fatalf("ReadAll of :memory: = %d commits, want 5", n)
	}

	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "own.db")+"?_busy_timeout=5000&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := sqlite.New(db, persistence.WithPageSize(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM eventstore_commits").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the caller's pool after Close: %d rows, %v; want it open with 1 row", n, err)
	}
}

// TestQueryPlans: reads use the indexes the package documentation names.
func TestQueryPlans(t *testing.T) {
	e := open(t, "sqlite://"+filepath.Join(t.TempDir(), "plans.db"))
	var db *sql.DB
	e.As(&db)
	for query, want := range map[string]string{
		"SELECT checkpoint FROM eventstore_commits WHERE dispatched = 0 AND checkpoint > 1 ORDER BY checkpoint LIMIT 3":    "eventstore_commits_undispatched",
		"SELECT checkpoint FROM eventstore_commits WHERE bucket = 'b' AND checkpoint > 1 ORDER BY checkpoint LIMIT 3":      "eventstore_commits_bucket",
		"SELECT checkpoint FROM eventstore_commits WHERE bucket = 'b' AND stream = 's' AND sequence > 1 ORDER BY sequence": "sqlite_autoindex_eventstore_commits_1",
		"SELECT MAX(checkpoint) FROM eventstore_commits":                                                                   "SEARCH eventstore_commits",
	} {
		var plan strings.Builder
		rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(detail + "; ")
		}
		rows.Close()
		if !strings.Contains(plan.String(), want) || strings.Contains(plan.String(), "TEMP B-TREE") || strings.Contains(plan.String(), "SCAN") {
			t.Errorf("plan of %s: %s; want %s, no sort, no scan", query, plan.String(), want)
		}
	}
}

// TestOpenDefaults: Open adds WAL, synchronous=FULL and a busy timeout
// unless the data source sets them, takes the portable parameters out, and
// opens the path as written, whatever its characters.
func TestOpenDefaults(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		params  string
		journal string
		sync    int
		busy    int
	}{
		{"?page_size=7", "wal", 2, 60000},
		{"?page_size=7&_busy_timeout=50&_synchronous=NORMAL&_pragma=journal_mode(DELETE)", "delete", 1, 50},
	} {
		path := filepath.Join(dir, "odd #%20name "+strconv.Itoa(len(tc.params))+".db")
		e := open(t, "sqlite://"+path+tc.params)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("the database is not at %q: %v", path, err)
		}
		var db *sql.DB
		e.As(&db)
		conn, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var journal string
		var sync, busy int
		for pragma, dest := range map[string]any{"journal_mode": &journal, "synchronous": &sync, "busy_timeout": &busy} {
			if err := conn.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(dest); err != nil {
				t.Fatal(err)
			}
		}
		conn.Close()
		if journal != tc.journal || sync != tc.sync || busy != tc.busy || e.Settings().PageSize != 7 {
			t.Errorf("%s: journal_mode %s, synchronous %d, busy_timeout %d, page size %d; want %s, %d, %d, 7",
				tc.params, journal, sync, busy, e.Settings().PageSize, tc.journal, tc.sync, tc.busy)
		}
	}
}
