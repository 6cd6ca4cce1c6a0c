package mysql

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// The server goes away and comes back under an open engine (a dedicated
// container, stopped and restarted): see acceptance.RunOutage.
func TestServerOutage(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		srv := testserver.Dedicated(t, kind)
		acceptance.RunOutage(t, acceptance.Outage{
			New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
				return Open(ctx, srv.Isolated(t)+"?timeout=2s&readTimeout=10s&writeTimeout=10s", opts...)
			},
			Stop:  srv.Stop,
			Start: srv.Start,
		})
	})
}
