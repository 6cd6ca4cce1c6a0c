package natsjs_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/relay/internal/relaytest"
	"github.com/goeventstore/eventstore/relay/natsjs"
)

// TestPerEventCrashes: one message per event, commits of one to four
// events, the relay killed at random points (also between the events of a
// commit) and restarted from the broker: the stream holds every event once,
// in order.
func TestPerEventCrashes(t *testing.T) {
	b := newBroker(t)
	_, js := b.connect()
	b.stream(js, jetstream.StreamConfig{})
	s := relaytest.Store(t)
	var want []string // commit ID/event index, in order
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 120 {
			n := 1 + rand.IntN(4)
			evs := make([]eventstore.EventMessage, n)
			for j := range evs {
				evs[j] = eventstore.EventMessage{Body: relaytest.OrderPlaced{Order: fmt.Sprint(i, "-", j)}}
			}
			c, err := s.Append(context.Background(), fmt.Sprint("s", i%4), eventstore.AnyPosition, eventstore.NewCommitID(), evs...)
			if err != nil {
				t.Error(err)
				return
			}
			for j := range n {
				want = append(want, c.CommitID.String()+"/"+strconv.Itoa(j+1))
			}
			if rand.IntN(3) == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	o := relaytest.Fast()
	o.PerEvent = true
	for round := 0; ; round++ {
		_, js := b.connect()
		r, err := relay.New(s, natsjs.New(js, "EVENTS", natsjs.Options{}), o)
		if err != nil {
			t.Fatal(err)
		}
		stop := relaytest.Run(t, r)
		time.Sleep(time.Duration(rand.IntN(10_000)) * time.Microsecond)
		if round >= 12 {
			<-done
			relaytest.WaitFor(t, "every event", func() bool { return count(t, js, "EVENTS") >= uint64(len(want)) })
			time.Sleep(20 * time.Millisecond)
			stop()
			break
		}
		stop()
	}
	var got []string
	for _, m := range messages(t, js, "EVENTS") {
		got = append(got, m.Header.Get(jetstream.MsgIDHeader))
		if m.Header.Get(jetstream.MsgIDHeader) != m.Header.Get(relay.HeaderCommitID)+"/"+m.Header.Get(relay.HeaderEventIndex) {
			t.Fatalf("message ID %q does not match its commit and event headers %v", m.Header.Get(jetstream.MsgIDHeader), m.Header)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("the stream holds %d event messages, want %d, each once, in order\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
}
