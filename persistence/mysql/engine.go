package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// engine is the MySQL driver of a persistence.Engine. It has every
// capability of package driver.
type engine struct {
	db     DB
	own    *sql.DB // the pool Open made, closed by Close; nil for New
	prefix string
	q      queries

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared once, reused on every connection
}

var (
	_ driver.Engine          = (*engine)(nil)
	_ driver.Initializer     = (*engine)(nil)
	_ driver.Closer          = (*engine)(nil)
	_ driver.Snapshotter     = (*engine)(nil)
	_ driver.DispatchTracker = (*engine)(nil)
	_ driver.StreamDeleter   = (*engine)(nil)
	_ driver.Purger          = (*engine)(nil)
	_ driver.Dropper         = (*engine)(nil)
	_ driver.HeadReader      = (*engine)(nil)
	_ driver.ErrorClassifier = (*engine)(nil)
	_ driver.Aser            = (*engine)(nil)
)

// stmt returns the prepared statement for query, preparing it on first use.
// A *sql.Stmt re-prepares itself on whatever connection runs it, so it
// survives the server restarting.
func (e *engine) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	e.stmtMu.Lock()
	s := e.stmts[query]
	e.stmtMu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := e.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	e.stmtMu.Lock()
	defer e.stmtMu.Unlock()
	if old := e.stmts[query]; old != nil {
		s.Close()
		return old, nil
	}
	e.stmts[query] = s
	return s, nil
}

// exec runs a prepared statement.
func (e *engine) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := e.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// query runs a prepared query.
func (e *engine) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := e.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// queryRow runs a prepared query of one row and scans it into dest.
func (e *engine) queryRow(ctx context.Context, query string, args []any, dest ...any) error {
	s, err := e.stmt(ctx, query)
	if err != nil {
		return err
	}
	return s.QueryRowContext(ctx, args...).Scan(dest...)
}

// Close releases the prepared statements and, if Open made the pool, the
// pool.
func (e *engine) Close(ctx context.Context) error {
	e.stmtMu.Lock()
	for q, s := range e.stmts {
		s.Close()
		delete(e.stmts, q)
	}
	e.stmtMu.Unlock()
	if e.own != nil {
		return e.own.Close()
	}
	return nil
}

// As sets *target to the engine's pool: target is a **sql.DB (the pool, if
// it is one) or a *DB (the pool as given to New).
func (e *engine) As(target any) bool {
	switch t := target.(type) {
	case **sql.DB:
		if e.own != nil {
			*t = e.own
			return true
		}
		if db, ok := e.db.(*sql.DB); ok {
			*t = db
			return true
		}
	case *DB:
		*t = e.db
		return true
	}
	return false
}

// String describes the engine for logs, without credentials.
func (e *engine) String() string {
	return fmt.Sprintf("mysql engine (tables %scommits, %ssnapshots)", e.prefix, e.prefix)
}
