package s3

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// servers are the S3 implementations every server-backed test of this
// package runs on, as subtests of these names.
var servers = []struct{ name, kind string }{
	{"MinIO", testserver.S3},
	{"SeaweedFS", testserver.SeaweedFS},
}

// eachServer runs f once per server kind, as parallel subtests.
func eachServer(t *testing.T, f func(t *testing.T, kind string)) {
	t.Helper()
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			f(t, s.kind)
		})
	}
}

// isolatedURL returns an s3:// URL naming a fresh bucket on the shared
// test server of kind, removed when t ends.
func isolatedURL(t testing.TB, kind string) string {
	t.Helper()
	return testserver.Get(t, kind).Isolated(t)
}

// testTimeout is the operation timeout of the package's own tests:
// generous, since the race detector on a loaded two-core machine is slow
// (the acceptance suite uses the same).
const testTimeout = 30 * time.Second

// openIsolated opens and initializes an engine on url, closed when t ends.
func openIsolated(t testing.TB, url string, opts ...persistence.Option) *persistence.Engine {
	t.Helper()
	e, err := Open(context.Background(), url, append([]persistence.Option{persistence.WithTimeout(testTimeout)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}
