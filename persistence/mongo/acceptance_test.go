package mongo

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// TestAcceptance runs the shared engine suite, every scenario on a database
// of its own, with pages of 3 commits so that paging is exercised.
func TestAcceptance(t *testing.T) {
	acceptance.Run(t, acceptance.Harness{
		PageSize: 3,
		New: func(ctx context.Context, t *testing.T) (persistence.Engine, error) {
			return Open(ctx, isolatedURL(t)+"?serverSelectionTimeoutMS=5000", &Options{PageSize: 3})
		},
	})
}
