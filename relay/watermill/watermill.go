// Package watermill publishes a relay's messages through any Watermill
// publisher (github.com/ThreeDotsLabs/watermill/message.Publisher), which
// opens every broker Watermill supports: AMQP, SQL, Google Cloud Pub/Sub,
// Kafka, Redis Streams, and more.
//
//	r, err := relay.New(store, watermill.New(amqpPublisher), relay.Options{
//		Checkpoints: relay.StoreCheckpoints(store, "amqp-relay"), // required: Watermill cannot say where a broker is
//	})
//
// Each relay message becomes a Watermill message: UUID = the commit ID,
// Payload = the JSON body, Metadata = the headers plus MetadataKey (bucket
// + "/" + stream, for publishers configured to partition by a metadata
// key). Consecutive messages for one topic go in one Publish call.
//
// # When is a message acknowledged?
//
// The relay advances past a message once Publish returned nil, so what
// that nil means is the guarantee. It depends on the backend (from each
// one's documentation; only the Go channel is tested here):
//
//   - watermill-amqp: only with publisher confirms on
//     (Config.Publish.ConfirmDelivery): Publish then waits for the broker's
//     confirmation. Without them a nil means "written to the socket".
//   - watermill-sql: Publish returns after the INSERT has committed (or, in
//     a transaction you pass, with it): durable.
//   - watermill-kafka: its publisher uses a synchronous producer and waits
//     for the acknowledgements its configuration asks for (set
//     RequiredAcks to WaitForAll).
//   - watermill-googlecloud: Publish waits for the server's result per
//     message: durable.
//   - gochannel (the in-process Pub/Sub): hands the message to the
//     subscribers in memory and forgets it, durable nowhere; with
//     BlockPublishUntilSubscriberAck it waits for a subscriber's Ack.
//
// Whether a failed Publish call may have stored part of its messages also
// depends on the backend: the relay publishes them again (copies, which
// consumers dedupe on the commit ID). This Publisher is no relay.Resumer.
package watermill

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/goeventstore/eventstore/relay"
)

// MetadataKey is the metadata key of the ordering key (bucket + "/" +
// stream).
const MetadataKey = "Eventstore-Key"

// Publisher publishes relay messages through a Watermill publisher.
type Publisher struct {
	p message.Publisher
}

// New returns a publisher over p. The caller closes p.
func New(p message.Publisher) *Publisher { return &Publisher{p: p} }

// Message returns m as a Watermill message.
func Message(ctx context.Context, m *relay.Message) *message.Message {
	wm := message.NewMessage(m.ID, m.Body)
	for k, v := range m.Headers {
		wm.Metadata.Set(k, v)
	}
	wm.Metadata.Set(MetadataKey, m.Key)
	wm.SetContext(ctx)
	return wm
}

// Publish publishes msgs in order, consecutive messages of one topic in one
// call; n counts the messages of the calls that returned nil.
func (p *Publisher) Publish(ctx context.Context, msgs []relay.Message) (int, error) {
	for i := 0; i < len(msgs); {
		j := i + 1
		for j < len(msgs) && msgs[j].Topic == msgs[i].Topic {
			j++
		}
		batch := make([]*message.Message, 0, j-i)
		for k := i; k < j; k++ {
			batch = append(batch, Message(ctx, &msgs[k]))
		}
		if err := ctx.Err(); err != nil {
			return i, err
		}
		if err := p.p.Publish(msgs[i].Topic, batch...); err != nil {
			return i, fmt.Errorf("watermill: publish checkpoints %d to %d to %q: %w", msgs[i].Checkpoint, msgs[j-1].Checkpoint, msgs[i].Topic, err)
		}
		i = j
	}
	return len(msgs), nil
}
