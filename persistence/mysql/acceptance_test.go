package mysql

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// TestAcceptance runs the shared engine conformance suite, each scenario on
// a fresh database of its own.
func TestAcceptance(t *testing.T) {
	acceptance.Run(t, acceptance.Harness{
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			return Open(ctx, isolatedURL(t), opts...)
		},
		PageSize: 3,
		Features: acceptance.AllFeatures,
	})
}
