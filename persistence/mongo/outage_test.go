package mongo

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// The server goes away and comes back under an open engine (a dedicated
// container, stopped and restarted): see acceptance.RunOutage. Server
// selection times out after 2 s, so calls fail fast while it is down.
func TestServerDown(t *testing.T) {
	srv := testserver.Dedicated(t, testserver.Mongo)
	acceptance.RunOutage(t, acceptance.Outage{
		New: func(ctx context.Context, t *testing.T) (persistence.Engine, error) {
			return Open(ctx, srv.Isolated(t)+"?serverSelectionTimeoutMS=2000", nil)
		},
		Stop:  srv.Stop,
		Start: srv.Start,
	})
}
