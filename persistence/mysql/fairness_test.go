package mysql

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// Instances with their own connection pools, writing at once to one
// database, get fair shares: see acceptance.RunFairness. The servers
// take turns (not in parallel), so that one does not skew the other's
// figures.
func TestFairness(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			url := isolatedURL(t, s.kind)
			acceptance.RunFairness(t, acceptance.Fairness{
				Open: func(ctx context.Context, t *testing.T) (*persistence.Engine, error) {
					e, err := Open(ctx, url)
					if err == nil {
						err = e.Initialize(ctx)
					}
					return e, err
				},
			})
		})
	}
}
