package azuretables

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// The server goes away and comes back under an open engine (a dedicated
// Azurite container, stopped and restarted): see acceptance.RunOutage.
func TestServerDown(t *testing.T) {
	srv := testserver.Dedicated(t, testserver.Azure)
	acceptance.RunOutage(t, acceptance.Outage{
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			return Open(ctx, srv.Isolated(t), opts...)
		},
		Stop:  srv.Stop,
		Start: srv.Start,
	})
}
