package mongo

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// TestAcceptance runs the shared engine suite, every scenario on a database
// of its own.
func TestAcceptance(t *testing.T) { eachServer(t, testAcceptance) }

func testAcceptance(t *testing.T) {
	acceptance.Run(t, acceptance.Harness{
		PageSize: 3,
		Features: acceptance.AllFeatures,
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			return Open(ctx, isolatedURL(t), opts...)
		},
	})
}
