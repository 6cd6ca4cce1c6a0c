package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/goeventstore/eventstore/persistence"
)

func init() { persistence.Register("sqlite", Open) }

// Open opens an engine over a connection pool of its own, which Close
// closes. dataSource is either
//
//   - a URL: sqlite:///absolute/path.db, sqlite://relative/path.db or
//     sqlite://:memory:, whose parameters go to the driver (mode=ro,
//     _pragma=..., see modernc.org/sqlite), or
//   - a modernc.org/sqlite data source as it is (file:events.db?mode=rwc,
//     events.db).
//
// Either way the portable parameters page_size, op_timeout and
// admin_timeout are taken out first (see persistence.ParseSettings), and
// unless the data source sets them Open adds _busy_timeout (the admin
// timeout: every call's context ends a wait for the write lock sooner),
// _journal_mode=WAL and _synchronous=FULL. An in-memory database lives in
// one connection, which every call then shares.
//
// No file is opened until the first call (Initialize, usually).
func Open(_ context.Context, dataSource string, opts ...persistence.Option) (*persistence.Engine, error) {
	rest, s, err := persistence.ParseSettings(dataSource, opts...)
	if err != nil {
		return nil, err
	}
	path, query, hasQuery := strings.Cut(rest, "?")
	if p, ok := strings.CutPrefix(path, "sqlite://"); ok {
		rest = "file:" + strings.NewReplacer("%", "%25", "#", "%23").Replace(p) + rest[len(path):]
	}
	query, sep := strings.ToLower(query), "?"
	if hasQuery {
		sep = "&"
	}
	for _, p := range [][2]string{
		{"timeout", fmt.Sprintf("_busy_timeout=%d", s.AdminTimeout.Milliseconds())},
		{"journal", "_journal_mode=WAL"},
		{"sync", "_synchronous=FULL"},
	} {
		if !strings.Contains(query, p[0]) {
			rest, sep = rest+sep+p[1], "&"
		}
	}
	db, err := sql.Open("sqlite", rest)
	if err != nil {
		return nil, err
	}
	if strings.Contains(rest, ":memory:") || strings.Contains(query, "mode=memory") {
		db.SetMaxOpenConns(1) // each connection would have a database of its own
	} else {
		db.SetMaxIdleConns(8) // not 2: a connection costs an open and its pragmas
	}
	return persistence.NewEngineWithSettings("sqlite", &engine{db: db, own: true}, s), nil
}

// New returns an engine over db, a modernc.org/sqlite pool the caller owns:
// Close leaves it open. Set its busy timeout (several writers wait for one
// write lock) and, for a file shared by several processes, WAL mode, as Open
// does.
func New(db *sql.DB, opts ...persistence.Option) (*persistence.Engine, error) {
	return persistence.NewEngine("sqlite", &engine{db: db}, opts...)
}

// engine implements driver.Engine and every optional capability.
type engine struct {
	db  *sql.DB
	own bool // Close closes db: Open made it
}

// Close closes the pool if Open made it.
func (e *engine) Close(context.Context) error {
	if e.own {
		return e.db.Close()
	}
	return nil
}

// As sets a **sql.DB to the engine's pool.
func (e *engine) As(target any) bool {
	p, ok := target.(**sql.DB)
	if ok {
		*p = e.db
	}
	return ok
}
