package azuretables

import (
	"context"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
)

// Engine instances with their own clients, writing at once to one table,
// get fair shares of the log: see acceptance.RunFairness.
func TestFairness(t *testing.T) {
	url := isolatedURL(t)
	acceptance.RunFairness(t, acceptance.Fairness{
		DefaultDuration: 10 * time.Second, // log slots come a few dozen a second: longer phases average out a loaded machine
		Open: func(ctx context.Context, t *testing.T) (*persistence.Engine, error) {
			e, err := Open(ctx, url)
			if err == nil {
				err = e.Initialize(ctx)
			}
			return e, err
		},
	})
}
