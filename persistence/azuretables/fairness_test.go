package azuretables

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/internal/testserver"
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

// TestFairnessLatency is TestFairness with a cloud round trip
// (testserver.BenchLatency) added under the SDK, as Azure Table Storage is
// that far: sharing the log then costs what the protocol costs, not what
// Azurite's one thread can give.
func TestFairnessLatency(t *testing.T) {
	url := isolatedURL(t)
	acceptance.RunFairness(t, acceptance.Fairness{
		DefaultDuration: 10 * time.Second,
		Open: func(ctx context.Context, t *testing.T) (*persistence.Engine, error) {
			d, s, err := open(url, clientOptions(&http.Client{Transport: testserver.Latency(transport().Transport, testserver.BenchLatency())}, 0))
			if err != nil {
				return nil, err
			}
			e := persistence.NewEngineWithSettings("azuretables", d, s)
			return e, e.Initialize(ctx)
		},
	})
}
