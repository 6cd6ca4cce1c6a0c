package mongo

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// servers are the servers every server-backed test of this package runs
// on, as subtests of these names: the Mongo kind (MongoDB, or FerretDB on
// SQLite where no MongoDB image can be had) and FerretDB on PostgreSQL,
// which uses indexes where FerretDB on SQLite scans, and applies
// concurrent writes at a rate the SQLite backend cannot.
var servers = []struct{ name, kind string }{
	{"Mongo", testserver.Mongo},
	{"FerretPG", testserver.FerretPG},
}

// eachServer runs f once per server, as parallel subtests named "Mongo"
// and "FerretPG". Inside f (and the subtests f starts), isolatedURL and
// serverKind name that subtest's server.
func eachServer(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			f(t)
		})
	}
}

// serverKind returns the server kind of the eachServer subtest t runs in
// (the second element of its name), or testserver.Mongo outside one (the
// benchmarks, which choose with -bench).
func serverKind(t testing.TB) string {
	parts := strings.Split(t.Name(), "/")
	if len(parts) > 1 {
		for _, s := range servers {
			if parts[1] == s.name {
				return s.kind
			}
		}
	}
	return testserver.Mongo
}

// isolatedURL returns a mongodb:// URL naming a fresh database on the
// shared server of t's kind (serverKind), dropped when t ends.
func isolatedURL(t testing.TB) string {
	t.Helper()
	return testserver.Get(t, serverKind(t)).Isolated(t)
}

// openEngine opens and initializes an engine on url, closes it when t
// ends, and returns it with its driver.
func openEngine(t testing.TB, url string, opts ...persistence.Option) (*persistence.Engine, *engine) {
	t.Helper()
	d, s, err := open(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	e := persistence.NewEngineWithSettings("mongodb", d, s)
	t.Cleanup(func() { e.Close(context.Background()) })
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, d
}

// attempt returns a one-event commit attempt of stream at seq.
func attempt(bucket, stream string, seq int) *persistence.CommitAttempt {
	return &persistence.CommitAttempt{
		BucketID: bucket, StreamID: stream,
		StreamRevision: seq, CommitSequence: seq, EventCount: 1,
		CommitID:    persistence.NewUUID(),
		CommitStamp: time.Now().UTC().Truncate(time.Microsecond),
		Payload:     payload512,
	}
}

var payload512 = []byte(strings.Repeat("x", 512))
