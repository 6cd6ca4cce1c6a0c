package natsjs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/mysql"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/relay/internal/relaytest"
	"github.com/goeventstore/eventstore/relay/natsjs"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// TestEngineOutage: the store's server (MariaDB in a container) stops under
// a running relay: the relay pauses (Run does not return) and, once the
// server is back, relays the commits made since: every commit once, in
// order.
func TestEngineOutage(t *testing.T) {
	srv := testserver.Dedicated(t, testserver.MariaDB)
	e, err := mysql.Open(context.Background(), srv.Isolated(t)+"?timeout=2s&readTimeout=5s&writeTimeout=5s", persistence.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := eventstore.New(e, eventstore.Options{})
	defer s.Close(context.Background())
	b := newBroker(t)
	_, js := b.connect()
	b.stream(js, jetstream.StreamConfig{})
	var want []*eventstore.Commit
	for i := range 5 {
		want = append(want, relaytest.Commit(t, s, "a", "s", fmt.Sprint(i)))
	}
	o := relaytest.Fast()
	o.Read.MaxBackoff = 200 * time.Millisecond
	r, _ := relay.New(s, natsjs.New(js, "EVENTS", natsjs.Options{}), o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	relaytest.WaitFor(t, "the first commits", func() bool { return r.Position() == want[4].Checkpoint })
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	select {
	case err := <-done:
		t.Fatalf("Run returned %v during the engine outage, want it to wait", err)
	default:
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	relaytest.WaitFor(t, "the store to work again", func() bool {
		c, err := s.Append(context.Background(), "s", eventstore.AnyPosition, eventstore.NewCommitID(), eventstore.EventMessage{Body: "after"})
		if err == nil {
			want = append(want, c)
		}
		return err == nil
	})
	want = append(want, relaytest.Commit(t, s, "b", "t", "more"))
	relaytest.WaitFor(t, "the commits after the outage", func() bool { return r.Position() == want[len(want)-1].Checkpoint })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	checkExactlyInOrder(t, js, want)
}
