package mysql

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// TestAcceptance runs the shared engine conformance suite on MySQL and on
// MariaDB, each scenario on a fresh database of its own.
func TestAcceptance(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		acceptance.Run(t, acceptance.Harness{
			New: func(ctx context.Context, t *testing.T) (persistence.Engine, error) {
				return Open(ctx, isolatedURL(t, kind)+"?page_size=3")
			},
			PageSize: 3,
		})
	})
}
