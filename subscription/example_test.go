package subscription_test

import (
	"context"
	"fmt"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/subscription"
)

// A projection that counts deposits per account, started from a saved
// checkpoint and stopped once it has caught up.
func Example() {
	ctx := context.Background()
	store, err := eventstore.Wireup().UsingInMemory().Build(ctx)
	if err != nil {
		panic(err)
	}
	defer store.Close(ctx)
	for _, account := range []string{"acc-1", "acc-2", "acc-1"} {
		store.Append(ctx, account, eventstore.AnyPosition, eventstore.NewCommitID(), eventstore.EventMessage{Body: "deposited"})
	}

	deposits := map[string]int{}
	ctx, stop := context.WithCancel(ctx)
	sub, err := subscription.New(store, subscription.Each(func(ctx context.Context, c eventstore.Commit) error {
		deposits[c.StreamID] += len(c.Events)
		return nil
	}), subscription.Options{
		Poll: time.Second,
		OnProgress: func(p subscription.Progress) {
			// Save p.Position here; stop once caught up, for the example.
			if p.CaughtUp {
				fmt.Println("caught up at checkpoint", p.Position, "behind:", p.Behind)
				stop()
			}
		},
	})
	if err != nil {
		panic(err)
	}
	err = sub.Run(ctx, 0) // from the start; a saved checkpoint otherwise
	fmt.Println(err, deposits)
	// Output:
	// caught up at checkpoint 3 behind: 0
	// context canceled map[acc-1:2 acc-2:1]
}
