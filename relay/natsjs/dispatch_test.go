package natsjs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/relay/internal/relaytest"
	"github.com/goeventstore/eventstore/relay/natsjs"
)

// TestDispatcher: the per-process option. Two stores (two "processes")
// dispatch their own commits through relay.Dispatcher to one stream,
// without the fence: every commit arrives, in order per stream, before
// Append returns (synchronous dispatch).
func TestDispatcher(t *testing.T) {
	b := newBroker(t)
	_, js := b.connect()
	b.stream(js, jetstream.StreamConfig{})
	ctx := context.Background()
	var want []*eventstore.Commit
	for p := range 2 {
		_, js := b.connect()
		s, err := eventstore.Wireup().UsingInMemory().RegisterType("OrderPlaced", relaytest.OrderPlaced{}).
			DispatchWith(relay.Dispatcher(natsjs.New(js, "EVENTS", natsjs.Options{NoFence: true}), relay.Options{})).
			Build(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(ctx)
		for i := range 5 {
			c, err := s.Append(ctx, fmt.Sprint("p", p), eventstore.AnyPosition, eventstore.NewCommitID(),
				eventstore.EventMessage{Body: relaytest.OrderPlaced{Order: fmt.Sprint(i)}})
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, c)
		}
	}
	got := messages(t, js, "EVENTS")
	if len(got) != len(want) {
		t.Fatalf("the stream holds %d messages right after the appends, want %d", len(got), len(want))
	}
	for i, m := range got {
		if id := m.Header.Get(relay.HeaderCommitID); id != want[i].CommitID.String() {
			t.Errorf("message %d is commit %s, want %s", i, id, want[i].CommitID)
		}
	}
}
