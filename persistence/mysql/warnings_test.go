package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

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

// openChecked opens an engine (not initialized) on url over a pool that
// records warnings; when t ends, any warning not expected fails t.
func openChecked(t *testing.T, url string) (*Engine, error) {
	cfg, opts, err := ParseDSN(url)
	if err != nil {
		return nil, err
	}
	ws := new(warnings)
	db, err := checkedDB(cfg, ws)
	if err != nil {
		return nil, err
	}
	db.SetMaxIdleConns(32)
	e, err := New(sqlx.NewDb(db, "mysql"), opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	e.ownDB = true
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
	return e, nil
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
		cfg, _, err := ParseDSN(isolatedURL(t, kind))
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
// statements the engine builds elsewhere (Initialize twice, Purge, Drop).
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
				e, err := openChecked(t, url)
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close(context.Background())
				runEveryStatement(t, e)
			})
		}
	})
}

func runEveryStatement(t *testing.T, e *Engine) {
	ctx := context.Background()
	for range 2 {
		if err := e.Initialize(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a := attempt("b", "s", 1)
	c, err := e.Commit(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	bk, sk, id, p := idKey("b"), idKey("s"), a.CommitID[:], []byte("payload")
	id2 := persistence.NewUUID()
	args := map[string][]any{
		"insertCommit":          {bk, sk, 2, id2[:], 2, 1, a.CommitStamp.UnixMicro(), "b", "s", p},
		"fill":                  {c.Checkpoint + 100},
		"commitIDExists":        {bk, sk, id},
		"sequenceExists":        {bk, sk, 1},
		"scanAll":               {0, 10},
		"getAt":                 {c.Checkpoint},
		"scanCheckpoints":       {0, 10},
		"getCPAt":               {c.Checkpoint},
		"readBucket":            {0, c.Checkpoint + 100, bk, 10},
		"readStream":            {bk, sk, 0, 0, 10},
		"readStreamBounded":     {bk, sk, 0, 0, 5, 10},
		"undispatched":          {0, 10},
		"markDispatched":        {c.Checkpoint, bk, sk, id},
		"addSnapshot":           {bk, sk, 1, "b", "s", p, bk, sk, 1, 1},
		"snapshotCommitExists":  {bk, sk, 1, 1},
		"latestSnapshot":        {bk, sk, 10},
		"streamHeads":           {bk, []byte{}, 10},
		"tombstoneStream":       {bk, sk},
		"tombstoneBucket":       {bk},
		"deleteStreamSnapshots": {bk, sk},
		"deleteBucketSnaps":     {bk},
	}
	v := reflect.ValueOf(e.q)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Name == "prefix" {
			continue
		}
		query := v.Field(i).String()
		qa, ok := args[f.Name]
		if !ok {
			t.Errorf("query %s has no arguments in this test: add them", f.Name)
			continue
		}
		times := 1
		if f.Name == "addSnapshot" {
			times = 2 // the second replaces the first
		}
		for range times {
			if strings.HasPrefix(query, "SELECT") {
				rows, err := e.db.QueryContext(ctx, query, qa...)
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				for rows.Next() {
				}
				if err := rows.Close(); err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
			} else if _, err := e.db.ExecContext(ctx, query, qa...); err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
		}
	}
	if err := e.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.Drop(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
