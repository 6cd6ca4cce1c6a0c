package relay_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/relay"
)

// A relay to a publisher of your own (here one that prints), resuming from
// a checkpoint file. Real brokers: relay/natsjs, relay/kafka,
// relay/watermill.
func Example() {
	ctx := context.Background()
	store, err := eventstore.Wireup().UsingInMemory().Build(ctx)
	if err != nil {
		panic(err)
	}
	defer store.Close(ctx)
	c, _ := store.Append(ctx, "order-1", eventstore.NoStream, eventstore.NewCommitID(), eventstore.EventMessage{Body: "placed"})
	store.Append(ctx, "order-1", c.Position(), eventstore.NewCommitID(), eventstore.EventMessage{Body: "shipped"})

	dir, _ := os.MkdirTemp("", "relay")
	defer os.RemoveAll(dir)
	ctx, stop := context.WithCancel(ctx)
	pub := relay.PublishFunc(func(ctx context.Context, msgs []relay.Message) (int, error) {
		for _, m := range msgs {
			fmt.Println(m.Topic, m.Key, m.Headers[relay.HeaderCheckpoint], m.Headers[relay.HeaderEventTypes])
			if m.Checkpoint == 2 {
				stop() // for the example
			}
		}
		return len(msgs), nil // the broker acknowledged them all
	})
	r, err := relay.New(store, pub, relay.Options{Checkpoints: &relay.File{Path: filepath.Join(dir, "checkpoint")}})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Run(ctx), r.Position())
	// Output:
	// eventstore.commits default/order-1 1 string
	// eventstore.commits default/order-1 2 string
	// context canceled 2
}
