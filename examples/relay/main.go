// Command relay wires an event store, a relay and an embedded NATS server
// with JetStream, and shows a consumer receiving the commits:
//
//	go run ./examples/relay
//
// Everything runs in this process, on loopback, with the JetStream file
// store in a temporary directory.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/relay/natsjs"
)

// OrderPlaced is the example's event.
type OrderPlaced struct {
	Order string  `json:"order"`
	Total float64 `json:"total"`
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	// 1. A NATS server with JetStream, embedded, on a free loopback port.
	dir, err := os.MkdirTemp("", "relay-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		return err
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		return fmt.Errorf("NATS server did not start")
	}
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	// The relay's own stream: every subject it publishes to.
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: "EVENTS", Subjects: []string{"eventstore.>"}, Storage: jetstream.FileStorage,
	}); err != nil {
		return err
	}

	// 2. The store (in memory here; any engine works).
	store, err := eventstore.Wireup().UsingInMemory().RegisterType("OrderPlaced", OrderPlaced{}).Build(ctx)
	if err != nil {
		return err
	}
	defer store.Close(ctx)

	// 3. The relay: commits of every bucket, one subject per bucket. It
	// resumes from the stream's last message, so it needs no checkpoint store.
	r, err := relay.New(store, natsjs.New(js, "EVENTS", natsjs.Options{}), relay.Options{Topic: relay.ByBucket("eventstore")})
	if err != nil {
		return err
	}
	relayDone := make(chan error, 1)
	rctx, stopRelay := context.WithCancel(ctx)
	defer stopRelay()
	go func() { relayDone <- r.Run(rctx) }()

	// 4. Some commits.
	for i, total := range []float64{10, 25.5, 7} {
		stream := fmt.Sprintf("order-%d", i%2+1)
		if _, err := store.Append(ctx, stream, eventstore.AnyPosition, eventstore.NewCommitID(),
			eventstore.EventMessage{Body: OrderPlaced{Order: stream, Total: total}}); err != nil {
			return err
		}
	}

	// 5. A consumer: it dedupes on the commit ID (at least once delivery)
	// and reads the documented JSON body.
	cons, err := js.OrderedConsumer(ctx, "EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for len(seen) < 3 {
		msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil {
			return err
		}
		id := msg.Headers().Get(relay.HeaderCommitID)
		if seen[id] {
			continue // a copy: already applied
		}
		seen[id] = true
		var body relay.Body
		if err := json.Unmarshal(msg.Data(), &body); err != nil {
			return err
		}
		fmt.Printf("%s checkpoint %s: %s commit %d, %s %s\n", msg.Subject(), msg.Headers().Get(relay.HeaderCheckpoint),
			body.Stream, body.CommitSequence, body.Events[0].Type, body.Events[0].Body)
	}
	stopRelay()
	if err := <-relayDone; err != context.Canceled {
		return err
	}
	return nil
}
