package mysql

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// TestAcceptance runs the shared engine conformance suite on MySQL and on
// MariaDB, each scenario on a fresh database of its own, over connections
// that fail the scenario if the server warns about any statement the engine
// sends (see warnings_test.go).
func TestAcceptance(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		acceptance.Run(t, acceptance.Harness{
			New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
				return openChecked(t, isolatedURL(t, kind), opts...)
			},
			PageSize: 3,
			Features: acceptance.AllFeatures,
		})
	})
}
