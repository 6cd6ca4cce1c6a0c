package mysql

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// isolatedURL returns a mysql:// URL naming a fresh database on the shared
// test server, dropped when t ends.
func isolatedURL(t testing.TB) string {
	t.Helper()
	return testserver.Get(t, testserver.MySQL).Isolated(t)
}

// openIsolated opens and initializes an engine on url, closed when t ends.
func openIsolated(t testing.TB, url string, opts ...persistence.Option) *persistence.Engine {
	t.Helper()
	e, err := Open(context.Background(), url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// poolOf returns the engine's connection pool, for tests that look at the
// tables themselves.
func poolOf(t testing.TB, e *persistence.Engine) *sql.DB {
	t.Helper()
	var db *sql.DB
	if !e.As(&db) {
		t.Fatal("engine does not expose its *sql.DB")
	}
	return db
}

// sqlOf is the engine's SQL under the default table prefix.
var sqlOf = newQueries(DefaultTablePrefix)

// benchURL is isolatedURL for benchmarks.
func benchURL(b *testing.B) string { return isolatedURL(b) }
