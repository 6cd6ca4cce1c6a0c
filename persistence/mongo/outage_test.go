package mongo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// The server goes away and comes back under an open engine (a dedicated
// container, stopped and restarted): see acceptance.RunOutage, which sets
// the operation timeout (Open also makes it the driver's server selection
// timeout).
func TestServerDown(t *testing.T) { eachServer(t, testServerDown) }

func testServerDown(t *testing.T) {
	srv := testserver.Dedicated(t, serverKind(t))
	acceptance.RunOutage(t, acceptance.Outage{
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			return Open(ctx, srv.Isolated(t), opts...)
		},
		Stop:  srv.Stop,
		Start: srv.Start,
	})
}

// The server hangs (its container paused: connections open, nothing
// answered) under an open engine, then resumes: every call gives up within
// the operation timeout, and the engine works again at once.
func TestServerHang(t *testing.T) { eachServer(t, testServerHang) }

func testServerHang(t *testing.T) {
	srv := testserver.Dedicated(t, serverKind(t))
	acceptance.RunOutage(t, acceptance.Outage{
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			return Open(ctx, srv.Isolated(t), opts...)
		},
		Stop:     srv.Pause,
		Start:    srv.Unpause,
		Recovery: acceptance.OutageTimeout,
	})
}

// With the default settings, a call during an outage fails within the
// operation timeout (it used to wait for the driver's 30 s server selection
// timeout), also an administrative call, whose own timeout is longer: the
// driver gives up server selection by itself. Once the server is back the
// same engine works at once.
func TestOutageBound(t *testing.T) { eachServer(t, testOutageBound) }

func testOutageBound(t *testing.T) {
	srv := testserver.Dedicated(t, serverKind(t))
	ctx := context.Background()
	e, err := Open(ctx, srv.Isolated(t))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if err := e.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	bound := persistence.DefaultTimeout + 2*time.Second
	timed := func(what string, call func() error) {
		t.Helper()
		t0 := time.Now()
		err := call()
		took := time.Since(t0)
		t.Logf("%s failed after %v", what, took.Round(time.Millisecond))
		if took > bound {
			t.Errorf("%s failed after %v, want within %v", what, took, bound)
		}
		if !errors.Is(err, persistence.ErrStorageUnavailable) {
			t.Errorf("%s: %v, want ErrStorageUnavailable", what, err)
		}
	}
	timed("Commit", func() error {
		_, err := e.Commit(ctx, attempt("b", "s", 2))
		return err
	})
	timed("ReadStream", func() error {
		for _, err := range e.ReadStream(ctx, "b", "s", 0, 0) {
			return err
		}
		return nil
	})
	timed("Initialize", func() error { return e.Initialize(ctx) })
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if _, err := e.Commit(ctx, attempt("b", "s", 2)); err != nil {
		t.Fatalf("Commit once the server is back: %v", err)
	}
	took := time.Since(t0)
	t.Logf("the first commit once the server was back took %v", took.Round(time.Millisecond))
	if took > 3*time.Second {
		t.Errorf("the first commit once the server was back took %v", took)
	}
}

// The server applies a commit but its answer is lost on the way back (a
// proxy between the driver and the server drops it): see
// acceptance.RunLostAnswer.
func TestLostAnswer(t *testing.T) { eachServer(t, testLostAnswer) }

func testLostAnswer(t *testing.T) {
	srv := testserver.Get(t, serverKind(t))
	var proxy *testserver.Proxy
	acceptance.RunLostAnswer(t, acceptance.LostAnswer{
		New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
			p, url := testserver.Proxied(t, srv.Isolated(t))
			proxy = p
			return Open(ctx, url, opts...)
		},
		Lose: func(lose bool) { proxy.LoseAnswers(lose) },
	})
}
