package mysql

import (
	"context"
	"os"
	"testing"

	"github.com/goeventstore/eventstore/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// isolatedURL returns a mysql:// URL naming a fresh database on the shared
// test server, dropped when t ends.
func isolatedURL(t testing.TB) string {
	t.Helper()
	return testserver.Get(t, testserver.MySQL).Isolated(t)
}

// openIsolated opens and initializes an engine on url, closed when t ends.
func openIsolated(t testing.TB, url string) *Engine {
	t.Helper()
	e, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// benchURL is isolatedURL for benchmarks.
func benchURL(b *testing.B) string { return isolatedURL(b) }
