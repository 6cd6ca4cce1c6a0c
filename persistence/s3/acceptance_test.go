package s3

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// TestAcceptance runs the shared engine conformance suite on every S3
// server kind, each scenario on a fresh bucket of its own.
func TestAcceptance(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		acceptance.Run(t, acceptance.Harness{
			New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
				return Open(ctx, isolatedURL(t, kind), opts...)
			},
			PageSize: 3,
			Features: acceptance.AllFeatures,
		})
	})
}

// The server goes away and comes back under an open engine (a dedicated
// container, stopped and restarted): see acceptance.RunOutage.
func TestServerOutage(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		srv := testserver.Dedicated(t, kind)
		acceptance.RunOutage(t, acceptance.Outage{
			New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
				return Open(ctx, srv.Isolated(t), opts...)
			},
			Stop:  srv.Stop,
			Start: srv.Start,
		})
	})
}
