package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// isolatedURL returns a mongodb:// URL naming a fresh database, dropped
// when t ends. TEMPORARY: replaced by testserver once it lands.
func isolatedURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("EVENTSTORE_MONGO_URL")
	if base == "" {
		t.Skip("set EVENTSTORE_MONGO_URL")
	}
	var b [6]byte
	rand.Read(b[:])
	u := strings.TrimSuffix(base, "/") + "/t_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		e, err := Open(context.Background(), u, nil)
		if err == nil {
			e.commits.Database().Drop(context.Background())
			e.Close(context.Background())
		}
	})
	return u
}

// openEngine opens and initializes an engine on url (with a short server
// selection timeout) and closes it when t ends.
func openEngine(t testing.TB, url string, opts *Options) *Engine {
	t.Helper()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	e, err := Open(context.Background(), url+sep+"serverSelectionTimeoutMS=2000", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
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
