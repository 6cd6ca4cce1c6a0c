package azuretables

import (
	"context"
	"os"
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
		Duration: fairnessDuration(),
		Open: func(ctx context.Context, t *testing.T) (*persistence.Engine, error) {
			e, err := Open(ctx, url)
			if err == nil {
				err = e.Initialize(ctx)
			}
			return e, err
		},
	})
}

// fairnessDuration is how long each phase of TestFairness writes: 10 s,
// so that a loaded machine's hiccups average out (Azurite writes a few
// dozen log batches a second, each carrying several commits), or
// EVENTSTORE_FAIRNESS_DURATION (0 here lets RunFairness read it).
func fairnessDuration() time.Duration {
	if os.Getenv("EVENTSTORE_FAIRNESS_DURATION") != "" {
		return 0
	}
	return 10 * time.Second
}
