package azuretables

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// TestAcceptance runs the shared engine suite against Azurite, every
// scenario on a table of its own.
func TestAcceptance(t *testing.T) {
	acceptance.Run(t, acceptance.Harness{
		PageSize: 3,
		Features: acceptance.AllFeatures,
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			return Open(ctx, isolatedURL(t), opts...)
		},
	})
}
