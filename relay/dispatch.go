package relay

import (
	"context"

	"github.com/goeventstore/eventstore"
)

// Dispatcher returns a dispatcher for Wireup's DispatchTo (or
// eventstore.Options.Dispatcher) that publishes each commit of this process
// as its message, as soon as it is stored: the low-latency option.
//
//	store, err := eventstore.Wireup().UsingMySQL(dsn).
//		UsingAsyncDispatch().
//		DispatchWith(relay.Dispatcher(natsjs.New(js, "EVENTS", natsjs.Options{NoFence: true}), relay.Options{})).
//		Build(ctx)
//
// What it does not give, unlike a Relay: one total order across processes
// (each process dispatches its own commits, in order per stream), and,
// with a publisher that fences on the previous message (natsjs), it must
// not share a broker stream with a Relay or another process. Delivery is at
// least once: the store retries a failed dispatch and redispatches what a
// crash left undispatched. opts.Buckets, Checkpoints and Read are ignored.
func Dispatcher(pub Publisher, opts Options) eventstore.Dispatcher {
	return eventstore.DispatcherFunc(func(ctx context.Context, c eventstore.Commit) error {
		var msgs []Message
		if opts.PerEvent {
			ms, err := EncodeEvents(&c, &opts)
			if err != nil {
				return err
			}
			msgs = ms
		} else {
			m, err := Encode(&c, &opts)
			if err != nil {
				return err
			}
			msgs = []Message{m}
		}
		_, err := pub.Publish(ctx, msgs)
		return err
	})
}
