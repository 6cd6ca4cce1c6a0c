// Package kafka publishes a relay's messages to Kafka with franz-go
// (github.com/twmb/franz-go/pkg/kgo).
//
//	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:9092")) // idempotent, acks from all in-sync replicas: kgo's defaults
//	r, err := relay.New(store, kafka.New(cl), relay.Options{
//		Checkpoints: relay.StoreCheckpoints(store, "kafka-relay"), // required: see below
//	})
//	err = r.Run(ctx)
//
// Each message becomes one record: Topic as the topic, Key (bucket + "/" +
// stream) as the record key, so that a stream's commits go to one partition
// in order, the Body as the value, and the headers as record headers
// (CloudEvents attributes with Kafka's "ce_" prefix).
//
// # What the broker guarantees here
//
// The client must keep kgo's defaults: the idempotent producer
// (no DisableIdempotentWrite) and RequiredAcks(AllISRAcks()): a record is
// acknowledged once every in-sync replica has it, and the producer's own
// retries never duplicate or reorder it within a partition. When a record
// fails for good, kgo fails every record buffered after it for the same
// partition, so a stream's commits are never stored past a gap. Records of
// other partitions after it may be stored: the relay publishes them again
// after the failed one, so consumers see copies (dedupe on the commit ID
// header) but, per stream, the first copy of each commit comes in order.
//
// Kafka has no per-message deduplication across producer sessions and no
// conditional append, so this Publisher is no relay.Resumer: a relay over
// it needs relay.Options.Checkpoints. With relay.StoreCheckpoints a second
// relay started by mistake loses the lease at its first save and stops;
// until then both publish (copies, never loss, per-stream order of first
// copies kept).
package kafka

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/goeventstore/eventstore/relay"
)

// Publisher produces relay messages with a kgo client. It is safe for
// concurrent use.
type Publisher struct {
	cl *kgo.Client
}

// New returns a publisher over cl (see the package documentation for the
// options cl needs). The caller closes cl.
func New(cl *kgo.Client) *Publisher { return &Publisher{cl: cl} }

// Record returns m as a Kafka record.
func Record(m *relay.Message) *kgo.Record {
	r := &kgo.Record{Topic: m.Topic, Key: []byte(m.Key), Value: m.Body, Headers: make([]kgo.RecordHeader, 0, len(m.Headers))}
	for k, v := range m.Headers {
		if rest, ok := strings.CutPrefix(k, "ce-"); ok {
			k = "ce_" + rest // the CloudEvents Kafka binding
		}
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return r
}

// Publish produces msgs and waits for every acknowledgement; n counts the
// acknowledged prefix.
func (p *Publisher) Publish(ctx context.Context, msgs []relay.Message) (int, error) {
	errs := make([]error, len(msgs))
	var wg sync.WaitGroup
	wg.Add(len(msgs))
	for i := range msgs {
		p.cl.Produce(ctx, Record(&msgs[i]), func(_ *kgo.Record, err error) {
			errs[i] = err
			wg.Done()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return i, fmt.Errorf("kafka: produce checkpoint %d to %q: %w", msgs[i].Checkpoint, msgs[i].Topic, err)
		}
	}
	return len(msgs), nil
}
