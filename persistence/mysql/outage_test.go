package mysql

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// The server goes away and comes back under an open engine (a dedicated
// container, stopped and restarted): see acceptance.RunOutage.
func TestServerOutage(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		srv := testserver.Dedicated(t, kind)
		acceptance.RunOutage(t, acceptance.Outage{
			New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
				return Open(ctx, srv.Isolated(t)+"?timeout=2s&readTimeout=10s&writeTimeout=10s", opts...)
			},
			Stop:  srv.Stop,
			Start: srv.Start,
		})
	})
}

// The server hangs (its container paused: connections open, nothing
// answered) under an open engine, then resumes: every call gives up within
// the operation timeout, and the engine works again at once.
func TestServerHang(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		srv := testserver.Dedicated(t, kind)
		acceptance.RunOutage(t, acceptance.Outage{
			New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
				return Open(ctx, srv.Isolated(t), opts...)
			},
			Stop:     srv.Pause,
			Start:    srv.Unpause,
			Recovery: acceptance.OutageTimeout,
		})
	})
}

// The server applies a commit but its answer is lost on the way back (a
// proxy between the driver and the server drops it): see
// acceptance.RunLostAnswer.
func TestLostAnswer(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		srv := testserver.Get(t, kind)
		var proxy *testserver.Proxy
		acceptance.RunLostAnswer(t, acceptance.LostAnswer{
			New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
				p, url := testserver.Proxied(t, srv.Isolated(t))
				proxy = p
				return Open(ctx, url, opts...)
			},
			Lose: func(lose bool) { proxy.LoseAnswers(lose) },
		})
	})
}
