package s3

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// slowMarkers is a transport that holds every commit-ID marker PUT for a
// while: the background write of a commit's marker lands late.
type slowMarkers struct{ base http.RoundTripper }

func (s slowMarkers) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/i/") {
		time.Sleep(500 * time.Millisecond)
	}
	return s.base.RoundTrip(r)
}

// A commit ID retried at a lower, taken sequence is a duplicate, not a
// conflict, even while its marker is still being written in the
// background (the acceptance scenario Commit/DuplicateTakesPrecedence,
// with the marker made slow).
func TestDuplicateWhileMarkerPending(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		openIsolated(t, rawURL) // creates the bucket
		e := faultyEngine(t, rawURL, slowMarkers{newTransport()}, true)
		ctx := context.Background()
		for seq := 1; seq <= 2; seq++ {
			if _, err := e.Commit(ctx, attempt("b", "s", seq)); err != nil {
				t.Fatalf("commit %d: %v", seq, err)
			}
		}
		c3, err := e.Commit(ctx, attempt("b", "s", 3))
		if err != nil {
			t.Fatalf("commit 3: %v", err)
		}
		retry := attempt("b", "s", 2)
		retry.CommitID = c3.CommitID
		_, err = e.Commit(ctx, retry)
		if !errors.Is(err, persistence.ErrDuplicateCommit) {
			t.Errorf("commit 3's ID retried at sequence 2: %v, want ErrDuplicateCommit", err)
		}
	})
}
