package relay

import (
	"context"
	"errors"
)

// Publisher sends messages to a broker. Broker packages implement it:
// relay/natsjs (NATS JetStream), relay/kafka (franz-go), relay/watermill
// (any Watermill publisher).
type Publisher interface {
	// Publish sends msgs, in order, and returns once the broker has
	// durably acknowledged the first n of them (n == len(msgs) when err
	// is nil; n < len(msgs) requires an error). The relay advances past
	// those n only.
	//
	// Order: a message after one that failed must not be stored ahead of
	// it, in any partition that holds both (per ordering key at least):
	// the relay publishes the failed one again, then the rest.
	// Messages may be stored although Publish reports them failed
	// (the acknowledgement was lost): the relay then publishes them again,
	// and the broker (deduplicating on Message.ID) or the consumer drops
	// the copy.
	Publish(ctx context.Context, msgs []Message) (n int, err error)
}

// Resumer is a Publisher that can read back where the broker is: the
// checkpoint of the last message it holds (0 if none). A relay with a
// Resumer needs no checkpoint store: after a crash it goes on after that
// checkpoint. Only a Publisher that never stores a message after one that
// failed (across all its messages, not only per key) may implement it.
type Resumer interface {
	Publisher
	Last(ctx context.Context) (checkpoint int64, err error)
}

// ErrOutOfSync is returned by a Publisher whose broker holds messages the
// publisher did not expect: another relay published meanwhile, or this one
// restarted from an older checkpoint than the broker's. The relay then
// resumes from the broker (Resumer.Last) instead of retrying.
var ErrOutOfSync = errors.New("relay: the broker holds messages this relay did not publish (another relay is running, or it resumed from an old checkpoint)")

// PublishFunc turns a function into a Publisher.
type PublishFunc func(ctx context.Context, msgs []Message) (int, error)

// Publish calls f.
func (f PublishFunc) Publish(ctx context.Context, msgs []Message) (int, error) { return f(ctx, msgs) }
