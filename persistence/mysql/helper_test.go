package mysql

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// servers are the servers every server-backed test of this package runs on,
// as subtests of these names: Oracle MySQL and MariaDB differ exactly where
// this engine lives (duplicate-key messages, deprecations, query plans).
var servers = []struct{ name, kind string }{
	{"MySQL", testserver.MySQL},
	{"MariaDB", testserver.MariaDB},
}

// eachServer runs f once per server kind, as parallel subtests named
// "MySQL" and "MariaDB".
func eachServer(t *testing.T, f func(t *testing.T, kind string)) {
	t.Helper()
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			f(t, s.kind)
		})
	}
}

// isolatedURL returns a mysql:// URL naming a fresh database on the shared
// test server of kind, dropped when t ends.
func isolatedURL(t testing.TB, kind string) string {
	t.Helper()
	return testserver.Get(t, kind).Isolated(t)
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

// sqlOf returns a statement of the engine under the default table prefix.
func sqlOf(stmt string) string { return expand(stmt, DefaultTablePrefix) }

// isMariaDB reports whether e's server is MariaDB (else Oracle MySQL).
func isMariaDB(t testing.TB, e *persistence.Engine) bool {
	t.Helper()
	var v string
	if err := poolOf(t, e).QueryRow("SELECT VERSION()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return strings.Contains(v, "MariaDB")
}
