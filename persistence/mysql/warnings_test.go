package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// The engine sends no statement the server warns about: MySQL 8.0.20+
// deprecates constructs MariaDB accepts silently (VALUES() in ON DUPLICATE
// KEY UPDATE, warning 1287), and a deprecated construct is removed in a
// later release. The driver never reads warnings, and a prepared statement
// gets them at PREPARE, which the EXECUTE that follows clears; so the tests
// open the engine over a connector that runs SHOW WARNINGS on the same
// connection after every PREPARE, every statement executed, and every result
// set read, and records what the server said.

// warning is one row of SHOW WARNINGS, with the statement it followed.
type warning struct {
	query string
	level string // Note, Warning (Error rows are the statement's error, returned anyway)
	code  int
	msg   string
}

func (w warning) String() string {
	return fmt.Sprintf("%s %d %q after %q", w.level, w.code, w.msg, w.query)
}

// expectedWarning reports whether w is one the engine's statements may
// produce by design: notes of CREATE TABLE IF NOT EXISTS on existing tables
// and DROP TABLE IF EXISTS on absent ones, and the duplicate that INSERT
// IGNORE skips when a second Initialize finds the schema row.
func expectedWarning(w warning) bool {
	q := strings.TrimSpace(w.query)
	switch {
	case w.code == 1050 && w.level == "Note" && strings.HasPrefix(q, "CREATE TABLE IF NOT EXISTS"):
	case w.code == 1051 && w.level == "Note" && strings.HasPrefix(q, "DROP TABLE IF EXISTS"):
	case w.code == 1062 && strings.HasPrefix(q, "INSERT IGNORE"):
	default:
		return false
	}
	return true
}

// warnings collects the warnings of every connection of one pool.
type warnings struct {
	mu    sync.Mutex
	found []warning
	stmts int // statements checked
}

func (ws *warnings) unexpected() []warning {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	var out []warning
	for _, w := range ws.found {
		if !expectedWarning(w) {
			out = append(out, w)
		}
	}
	return out
}

// checkedDB opens a pool on cfg whose connections record the server's
// warnings in ws.
func checkedDB(cfg *mysql.Config, ws *warnings) (*sql.DB, error) {
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(warnConnector{c, ws}), nil
}

// openChecked opens an engine (not initialized) on url, as Open does, over a
// pool that records warnings; when t ends, any warning not expected fails t.
func openChecked(t *testing.T, url string, opts ...persistence.Option) (*persistence.Engine, error) {
	e, _, err := openCheckedDriver(t, url, opts...)
	return e, err
}

// openCheckedDriver is openChecked that also returns the engine's driver.
func openCheckedDriver(t *testing.T, url string, opts ...persistence.Option) (*persistence.Engine, *engine, error) {
	rest, s, err := persistence.ParseEngineSettings(url, []string{optTablePrefix}, opts...)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := parseDSN(rest)
	if err != nil {
		return nil, nil, err
	}
	ws := new(warnings)
	db, err := checkedDB(cfg, ws)
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxIdleConns(32)
	d, err := newEngine(db, s)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	d.own = db
	t.Cleanup(func() {
		ws.mu.Lock()
		n := ws.stmts
		ws.mu.Unlock()
		if n == 0 && !t.Failed() && !t.Skipped() {
			t.Errorf("no statement's warnings were checked")
		}
		for _, w := range ws.unexpected() {
			t.Errorf("server warning: %v", w)
		}
	})
	return persistence.NewEngineWithSettings("mysql", d, s), d, nil
}

type warnConnector struct {
	driver.Connector
	ws *warnings
}

func (c warnConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &warnConn{Conn: conn, ws: c.ws}, nil
}

// warnConn is a driver connection of github.com/go-sql-driver/mysql that
// runs SHOW WARNINGS after each statement. It passes on every interface
// database/sql looks for on that driver's connections.
type warnConn struct {
	driver.Conn
	ws *warnings
}

// check reads SHOW WARNINGS for the statement query just run.
func (c *warnConn) check(query string) {
	rows, err := c.Conn.(driver.QueryerContext).QueryContext(context.Background(), "SHOW WARNINGS", nil)
	if err != nil {
		return // a broken connection; the statement's own error says so
	}
	defer rows.Close()
	vals := make([]driver.Value, len(rows.Columns()))
	c.ws.mu.Lock()
	defer c.ws.mu.Unlock()
	c.ws.stmts++
	for rows.Next(vals) == nil {
		w := warning{query: query, level: str(vals[0]), msg: str(vals[2])}
		w.code, _ = strconv.Atoi(str(vals[1]))
		if w.level != "Error" {
			c.ws.found = append(c.ws.found, w)
		}
	}
}

func str(v driver.Value) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func (c *warnConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.check(query) // parse-time warnings (1287 among them) belong to the PREPARE
	return &warnStmt{Stmt: s, c: c, query: query}, nil
}

func (c *warnConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	if errors.Is(err, driver.ErrSkip) {
		return nil, err // database/sql prepares it instead
	}
	c.check(query)
	return res, err
}

func (c *warnConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	if errors.Is(err, driver.ErrSkip) {
		return nil, err
	}
	if err != nil {
		c.check(query)
		return nil, err
	}
	return &warnRows{Rows: rows, after: func() { c.check(query) }}, nil
}

func (c *warnConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *warnConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *warnConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *warnConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

func (c *warnConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

type warnStmt struct {
	driver.Stmt
	c     *warnConn
	query string
}

func (s *warnStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	res, err := s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	s.c.check(s.query)
	return res, err
}

func (s *warnStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		s.c.check(s.query)
		return nil, err
	}
	return &warnRows{Rows: rows, after: func() { s.c.check(s.query) }}, nil
}

func (s *warnStmt) CheckNamedValue(nv *driver.NamedValue) error {
	return s.Stmt.(driver.NamedValueChecker).CheckNamedValue(nv)
}

// warnRows checks the warnings once the result set is closed: the
// connection carries nothing else until then.
type warnRows struct {
	driver.Rows
	after func()
	once  sync.Once
}

func (r *warnRows) Close() error {
	err := r.Rows.Close()
	if err == nil {
		r.once.Do(r.after)
	}
	return err
}

var _ io.Closer = (*warnRows)(nil)

// The checking connector catches warnings of both kinds: those of a PREPARE
// (parse time: VALUES() in ON DUPLICATE KEY UPDATE on MySQL) and those of an
// execution (a division by zero), through prepared and plain statements.
func TestWarningsAreCaught(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		cfg, err := parseDSN(isolatedURL(t, kind))
		if err != nil {
			t.Fatal(err)
		}
		ws := new(warnings)
		db, err := checkedDB(cfg, ws)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var null sql.NullInt64
		if err := db.QueryRowContext(ctx, "SELECT ? / 0", 1).Scan(&null); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "SELECT 1 / 0").Scan(&null); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE t (a INT PRIMARY KEY, b INT)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO t (a, b) VALUES (?, ?) ON DUPLICATE KEY UPDATE b = VALUES(b)", 1, 2); err != nil {
			t.Fatal(err)
		}
		var div0, deprecated int
		for _, w := range ws.unexpected() {
			switch w.code {
			case 1365:
				div0++
			case 1287:
				deprecated++
			default:
				t.Errorf("unexpected %v", w)
			}
		}
		if div0 != 2 {
			t.Errorf("%d division-by-zero warnings caught, want 2: %v", div0, ws.found)
		}
		if want := map[bool]int{true: 0, false: 1}[kind == testserver.MariaDB]; deprecated != want {
			t.Errorf("%d deprecation warnings for VALUES() caught, want %d: %v", deprecated, want, ws.found)
		}
	})
}

// Every statement of the engine's query table, run with plausible arguments
// on both servers, prepared (as the engine runs them) and unprepared
// (interpolateParams: the text protocol), draws no warning; and so do the
// statements the engine runs through its own calls: Initialize twice and
// over tables of schema version 1 (the migration, whole and interrupted),
// every read and write (a stream-heads page after a cursor, a checkpoint
// read that claims a hole and reads the purge floor), Head, Purge, Drop.
// A query added to the table without arguments here fails the test.
func TestStatementsDrawNoWarnings(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		for _, interpolate := range []bool{false, true} {
			name := map[bool]string{false: "prepared", true: "interpolated"}[interpolate]
			t.Run(name, func(t *testing.T) {
				url := isolatedURL(t, kind)
				if interpolate {
					url += "?interpolateParams=true"
				}
				// Page size 1: StreamsToSnapshot pages with a cursor.
				e, d, err := openCheckedDriver(t, url, persistence.WithPageSize(1))
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close(context.Background())
				runEveryStatement(t, url, e, d)
			})
		}
	})
}

func runEveryStatement(t *testing.T, url string, e *persistence.Engine, d *engine) {
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for range 2 {
		must("Initialize", e.Initialize(ctx))
	}
	// The migration from schema version 1, whole, then interrupted after
	// its ALTER (which then fails with a duplicate column: an error, not a
	// warning).
	// The tables are set back over a pool of their own: the checks are for
	// the engine's statements (and MariaDB without its system tables, as
	// the substitute image runs, warns about statistics on DROP COLUMN).
	cfg, err := parseDSN(url)
	must("parse URL", err)
	c0, err := mysql.NewConnector(cfg)
	must("connector", err)
	plain := sql.OpenDB(c0)
	defer plain.Close()
	for _, interrupted := range []bool{false, true} {
		if !interrupted {
			_, err := plain.ExecContext(ctx, d.expand("ALTER TABLE `{p}schema` DROP COLUMN purged"))
			must("drop purged", err)
		}
		_, err := plain.ExecContext(ctx, d.expand("UPDATE `{p}schema` SET version = 1"))
		must("set version 1", err)
		must("Initialize over version 1", e.Initialize(ctx))
	}

	// The engine's own calls.
	a := attempt("b", "s", 1)
	c, err := e.Commit(ctx, a)
	must("Commit", err)
	for _, a := range []*persistence.CommitAttempt{attempt("b", "s2", 1), attempt("b", "gone", 1), attempt("other", "s", 1)} {
		_, err := e.Commit(ctx, a)
		must("Commit", err)
	}
	_, err = e.Commit(ctx, a)
	must("Commit retried", ignore(err, persistence.ErrDuplicateCommit))
	_, err = e.Commit(ctx, attempt("b", "s", 1))
	must("Commit conflicting", ignore(err, persistence.ErrConcurrency))
	// A writer that rolls back leaves a hole that the next checkpoint read
	// claims (fill, after reading the purge floor).
	_, rollback, _ := beginLateCommit(t, e, attempt("b", "late", 1))
	rollback()
	for _, read := range []func() error{
		func() error { return drain(e.ReadAll(ctx, 0)) },
		func() error { return drain(e.ReadBucket(ctx, "b", 0)) },
		func() error { return drain(e.ReadStream(ctx, "b", "s", 0, 0)) },
		func() error { return drain(e.ReadStream(ctx, "b", "s", 0, 1)) },
		func() error { return drain(e.Undispatched(ctx)) },
		func() error { return drain(e.StreamsToSnapshot(ctx, "b", 1)) },
	} {
		must("read", read())
	}
	_, err = e.Head(ctx)
	must("Head", err)
	must("MarkDispatched", e.MarkDispatched(ctx, c))
	snap := persistence.Snapshot{BucketID: "b", StreamID: "s", StreamRevision: 1, Payload: []byte("snap")}
	for range 2 { // the second stores the same row again (0 rows affected)
		must("AddSnapshot", e.AddSnapshot(ctx, snap))
	}
	must("AddSnapshot of no commit", ignore(e.AddSnapshot(ctx, persistence.Snapshot{BucketID: "b", StreamID: "none", StreamRevision: 1, Payload: []byte("x")}), persistence.ErrStreamNotFound))
	_, err = e.LatestSnapshot(ctx, "b", "s", 1)
	must("LatestSnapshot", err)
	must("StreamsToSnapshot", drain(e.StreamsToSnapshot(ctx, "b", 1)))
	must("DeleteStream", e.DeleteStream(ctx, "b", "gone"))
	must("PurgeBucket", e.PurgeBucket(ctx, "other"))

	// Every query of the table, through the pool directly.
	bk, sk, id, p := idKey("b"), idKey("s"), a.CommitID[:], []byte("payload")
	id2 := persistence.NewUUID()
	// Keyed by the statement's variable name in schema.go, which the loop
	// checks is complete.
	stmts := map[string]struct {
		sql  string
		runs [][]any
	}{
		"sqlInsertCommit":          {sqlInsertCommit, [][]any{{bk, sk, 2, id2[:], 2, 1, a.CommitStamp.UnixMicro(), "b", "s", p}}},
		"sqlFill":                  {sqlFill, [][]any{{c.Checkpoint + 100}}},
		"sqlCommitIDExists":        {sqlCommitIDExists, [][]any{{bk, sk, id}}},
		"sqlSequenceExists":        {sqlSequenceExists, [][]any{{bk, sk, 1}}},
		"sqlScanAll":               {sqlScanAll, [][]any{{0, 10}}},
		"sqlGetAt":                 {sqlGetAt, [][]any{{c.Checkpoint}}},
		"sqlScanCheckpoints":       {sqlScanCheckpoints, [][]any{{0, 10}}},
		"sqlGetCPAt":               {sqlGetCPAt, [][]any{{c.Checkpoint}}},
		"sqlReadBucket":            {sqlReadBucket, [][]any{{0, c.Checkpoint + 100, bk, 10}}},
		"sqlReadStream":            {sqlReadStream, [][]any{{bk, sk, 0, 0, 10}}},
		"sqlReadStreamBounded":     {sqlReadStreamBounded, [][]any{{bk, sk, 0, 0, 5, 10}}},
		"sqlHead":                  {sqlHead, [][]any{{}}},
		"sqlFloor":                 {sqlFloor, [][]any{{}}},
		"sqlUndispatched":          {sqlUndispatched, [][]any{{0, 10}}},
		"sqlMarkDispatched":        {sqlMarkDispatched, [][]any{{c.Checkpoint, bk, sk, id}}},
		"sqlAddSnapshot":           {sqlAddSnapshot, [][]any{{bk, sk, 1, "b", "s", p, bk, sk, 1, 1}, {bk, sk, 1, "b", "s", p, bk, sk, 1, 1}}}, // the second replaces the first
		"sqlSnapshotCommitExists":  {sqlSnapshotCommitExists, [][]any{{bk, sk, 1, 1}}},
		"sqlLatestSnapshot":        {sqlLatestSnapshot, [][]any{{bk, sk, 10}}},
		"sqlStreamHeads":           {sqlStreamHeads, [][]any{{bk, []byte{}, 10, bk}, {bk, sk, 10, bk}}}, // first page, then after a cursor
		"sqlTombstoneStream":       {sqlTombstoneStream, [][]any{{bk, sk}}},
		"sqlTombstoneBucket":       {sqlTombstoneBucket, [][]any{{bk}}},
		"sqlDeleteStreamSnapshots": {sqlDeleteStreamSnapshots, [][]any{{bk, sk}}},
		"sqlDeleteBucketSnaps":     {sqlDeleteBucketSnaps, [][]any{{bk}}},
		"sqlTop":                   {sqlTop, [][]any{{}}},
		"sqlRaiseFloor":            {sqlRaiseFloor, [][]any{{0}}},
		"sqlPurgeBelow":            {sqlPurgeBelow, [][]any{{0}}},
		"sqlTombstoneAt":           {sqlTombstoneAt, [][]any{{c.Checkpoint + 100}}},
		"sqlPurgeSnapshots":        {sqlPurgeSnapshots, [][]any{{}}},
	}
	for _, name := range statementNames(t) {
		st, ok := stmts[name]
		if !ok {
			t.Errorf("statement %s has no arguments in this test: add them", name)
			continue
		}
		query := d.expand(st.sql)
		for _, qa := range st.runs {
			if strings.HasPrefix(query, "SELECT") {
				rows, err := d.db.QueryContext(ctx, query, qa...)
				must(name, err)
				for rows.Next() {
				}
				must(name, rows.Close())
			} else {
				_, err := d.db.ExecContext(ctx, query, qa...)
				must(name, err)
			}
		}
	}

	// Purge, then a read from 0 that meets the holes below the floor.
	must("Purge", e.Purge(ctx))
	_, err = e.Commit(ctx, attempt("b", "after", 1))
	must("Commit after Purge", err)
	must("ReadAll after Purge", drain(e.ReadAll(ctx, 0)))
	must("ReadBucket after Purge", drain(e.ReadBucket(ctx, "b", 0)))
	for range 2 {
		must("Drop", e.Drop(ctx))
	}
}

// ignore returns nil if err is target, else err.
func ignore(err, target error) error {
	if errors.Is(err, target) {
		return nil
	}
	return err
}

// drain ranges over seq and returns its first error.
func drain[T any](seq func(func(T, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

// statementNames returns the names of the statement templates schema.go
// declares (the package-level variables named sql...).
func statementNames(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "schema.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, decl := range f.Decls {
		if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
			for _, spec := range g.Specs {
				for _, id := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(id.Name, "sql") {
						names = append(names, id.Name)
					}
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("schema.go declares no statements")
	}
	return names
}
