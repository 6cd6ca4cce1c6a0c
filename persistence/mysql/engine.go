package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"

	"github.com/goeventstore/eventstore/persistence"
)

// Engine is the MySQL engine. It implements persistence.Engine and is safe
// for concurrent use.
type Engine struct {
	db    *sqlx.DB
	ownDB bool // Close closes db
	opts  Options
	q     queries

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared once, reused on every connection

	mu     sync.RWMutex
	closed bool
	calls  sync.WaitGroup
}

var _ persistence.Engine = (*Engine)(nil)

// DB returns the pool the engine uses.
func (e *Engine) DB() *sqlx.DB { return e.db }

// Options returns the engine's options, defaults filled in.
func (e *Engine) Options() Options { return e.opts }

// enter registers a call in progress; it fails once the engine is closed
// or ctx is done. The caller must call the returned function when done.
func (e *Engine) enter(ctx context.Context, op string) (func(), error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, fmt.Errorf("eventstore: mysql %s: %w", op, persistence.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("eventstore: mysql %s: %w", op, err)
	}
	e.calls.Add(1)
	return e.calls.Done, nil
}

// stmt returns the prepared statement for query, preparing it on first use.
// A *sql.Stmt re-prepares itself on whatever connection runs it, so it
// survives the server restarting (the connections it was prepared on are
// discarded as bad, and new ones get it prepared afresh).
func (e *Engine) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
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
func (e *Engine) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := e.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// query runs a prepared query.
func (e *Engine) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := e.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// Close waits for calls in progress (until ctx is done), then releases the
// prepared statements and, if the engine opened the pool itself, the pool.
// Later calls fail with ErrClosed.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()

	done := make(chan struct{})
	go func() { e.calls.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("eventstore: mysql close: %w", ctx.Err())
	}
	e.stmtMu.Lock()
	for q, s := range e.stmts {
		s.Close()
		delete(e.stmts, q)
	}
	e.stmtMu.Unlock()
	if e.ownDB {
		if cerr := e.db.Close(); cerr != nil && err == nil {
			err = persistence.Unavailable("close", cerr)
		}
	}
	return err
}
