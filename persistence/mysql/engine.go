package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/goeventstore/eventstore/persistence/internal/engines"
)

// engine is the MySQL driver of a persistence.Engine. It has every
// capability of package driver.
type engine struct {
	db     DB
	own    *sql.DB // the pool Open made, closed by Close; nil for New
	prefix string

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // by statement template; prepared once, reused on every connection
}

var _ engines.Client = (*engine)(nil)

// expand fills the engine's table prefix into a statement template.
func (e *engine) expand(stmt string) string { return expand(stmt, e.prefix) }

// stmt returns the prepared statement for query, a statement template (see
// expand), preparing it on first use. A *sql.Stmt re-prepares itself on
// whatever connection runs it, so it survives the server restarting.
func (e *engine) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	e.stmtMu.Lock()
	s := e.stmts[query]
	e.stmtMu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := e.db.PrepareContext(ctx, e.expand(query))
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

// each runs a prepared query and calls scan for each of its rows.
func (e *engine) each(ctx context.Context, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := e.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
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
	pool, _ := e.db.(*sql.DB)
	if e.own != nil {
		pool = e.own
	}
	return (pool != nil && engines.As(target, pool)) || engines.As(target, e.db)
}

// String describes the engine for logs, without credentials.
func (e *engine) String() string {
	return fmt.Sprintf("mysql engine (tables %scommits, %ssnapshots)", e.prefix, e.prefix)
}
