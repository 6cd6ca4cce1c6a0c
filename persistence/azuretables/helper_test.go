package azuretables

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

// isolatedURL returns an azuretables:// URL whose table prefix is fresh on
// the package's shared Azurite, its tables deleted when t ends.
func isolatedURL(t testing.TB) string {
	t.Helper()
	return testserver.Get(t, testserver.Azure).Isolated(t)
}

// openEngine opens and initializes an engine on url, closes it when t
// ends, and returns it with its driver.
func openEngine(t testing.TB, url string, opts ...persistence.Option) (*persistence.Engine, *engine) {
	t.Helper()
	d, s, err := open(url, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	e := persistence.NewEngineWithSettings("azuretables", d, s)
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

func testserverAzure(t testing.TB) *testserver.Server {
	t.Helper()
	return testserver.Get(t, testserver.Azure)
}
