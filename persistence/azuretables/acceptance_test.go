package azuretables

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// TestAcceptance runs the shared engine suite against Azurite, every
// scenario on a table of its own, with the batch guard under the SDK.
func TestAcceptance(t *testing.T) {
	acceptance.Run(t, acceptance.Harness{
		PageSize: 3,
		Features: acceptance.AllFeatures,
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			// Every request goes through the guard: a batch Azure would
			// refuse fails the scenario, although Azurite takes it.
			d, s, err := open(isolatedURL(t), clientOptions(newGuard(t, nil), 0), opts...)
			if err != nil {
				return nil, err
			}
			return persistence.NewEngineWithSettings("azuretables", d, s), nil
		},
	})
}
