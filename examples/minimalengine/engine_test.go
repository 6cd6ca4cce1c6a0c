package minimalengine_test

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/examples/minimalengine"
	"github.com/goeventstore/eventstore/persistence"
)

func TestAcceptance(t *testing.T) {
	acceptance.Run(t, acceptance.Harness{
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			return minimalengine.Open(ctx, "", opts...) // fresh storage for every scenario
		},
		PageSize: 3,
		Features: nil, // the required core only
	})
}
