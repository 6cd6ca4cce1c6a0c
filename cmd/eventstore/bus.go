package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/relay/kafka"
	"github.com/goeventstore/eventstore/relay/natsjs"
)

// busHelp documents the broker URLs of dispatch run.
const busHelp = `Broker URLs (--to):

  nats://HOST:PORT[,HOST:PORT...][?OPTIONS]    NATS JetStream (relay/natsjs)
    user:password@ before the hosts, as NATS takes them.
    stream=NAME     the JetStream stream (default EVENTSTORE); it is created,
                    on the messages' subjects with file storage, if it does
                    not exist (create=false: refuse instead)
    subject=S       every commit's subject (default eventstore.commits)
    prefix=P        instead of subject: one subject per bucket, P.BUCKET (the
                    stream then holds P.>)
    fence=true      each message expects the previous one to be the stream's
                    last (Nats-Expected-Last-Msg-Id): refused if anything else
                    publishes to the stream. Default off: repeats within the
                    stream's duplicate window are dropped by commit ID anyway.

  kafka://BROKER[:PORT][,BROKER[:PORT]...]/TOPIC[?OPTIONS]    Kafka (relay/kafka)
    PORT defaults to 9092; the topic must exist (default topic
    eventstore.commits). Records are keyed by bucket/stream, so a stream's
    commits stay in one partition, in order; the producer is idempotent and
    waits for every in-sync replica.
    prefix=P        instead of TOPIC: one topic per bucket, P.BUCKET
    client_id=ID    the Kafka client ID (default eventstore-cli)

Messages are the bus bridge's (package relay): one per commit, the commit as a
JSON document with its events, its coordinates as Eventstore-* headers, the
commit ID as the message ID. Payloads are read with --serializer, --compress
and the key; with JSON, each event keeps the type name and the JSON it was
stored with (a type never registered is named by its JSON kind: "object"...).`

// errBroker marks errors of the broker (not of the store), for the hint.
var errBroker = errors.New("broker")

// brokerError is a broker that cannot be used: unreachable, or refusing.
type brokerError struct {
	url string
	err error
}

func (e *brokerError) Error() string { return fmt.Sprintf("broker %s: %v", redact(e.url), e.err) }
func (e *brokerError) Unwrap() []error {
	return []error{errBroker, e.err}
}

// bus is a publisher opened from a broker URL.
type bus struct {
	name  string // "nats" or "kafka"
	pub   relay.Publisher
	opts  relay.Options // Topic
	close func()
}

// openBus connects to the broker rawURL names; timeout bounds connecting
// and each acknowledgement. A URL the command cannot use is a usage error.
func openBus(ctx context.Context, rawURL string, timeout time.Duration) (*bus, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, busUsage("--to %q: not a broker URL: want nats://HOST:PORT?stream=NAME or kafka://BROKER:PORT/TOPIC", redact(rawURL))
	}
	q := u.Query()
	switch u.Scheme {
	case "nats":
		return openNATS(ctx, rawURL, u, q, timeout)
	case "kafka":
		return openKafka(ctx, rawURL, u, q, timeout)
	}
	return nil, busUsage("--to %q: unknown broker scheme %q: want nats:// (NATS JetStream) or kafka://", redact(rawURL), u.Scheme)
}

// busUsage is a usage error about --to, with a hint to the broker URL
// help.
func busUsage(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: "'eventstore dispatch run --help' lists the broker URLs and their options"}
}

// take returns query option k and removes it from q.
func take(q url.Values, k string) string {
	v := q.Get(k)
	q.Del(k)
	return v
}

// topicOption returns the relay's Topic from subject and prefix (at most
// one given).
func topicOption(rawURL, what, fixed, prefix string) (func(c *eventstore.Commit) string, error) {
	switch {
	case fixed != "" && prefix != "":
		return nil, busUsage("--to %q: give the %s or prefix=, not both", redact(rawURL), what)
	case prefix != "":
		return relay.ByBucket(prefix), nil
	case fixed != "":
		return func(*eventstore.Commit) string { return fixed }, nil
	}
	return nil, nil // relay.DefaultTopic
}

// unknownOptions refuses the query options nobody took.
func unknownOptions(rawURL string, q url.Values) error {
	for k := range q {
		return busUsage("--to %q: unknown option %q", redact(rawURL), k)
	}
	return nil
}

func openNATS(ctx context.Context, rawURL string, u *url.URL, q url.Values, timeout time.Duration) (*bus, error) {
	stream := take(q, "stream")
	if stream == "" {
		stream = "EVENTSTORE"
	}
	subject, prefix := take(q, "subject"), take(q, "prefix")
	create, fence := true, false
	for k, p := range map[string]*bool{"create": &create, "fence": &fence} {
		if v := take(q, k); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, busUsage("--to %q: %s=%q: want true or false", redact(rawURL), k, v)
			}
			*p = b
		}
	}
	if err := unknownOptions(rawURL, q); err != nil {
		return nil, err
	}
	topic, err := topicOption(rawURL, "subject=", subject, prefix)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(stream, ". *>") {
		return nil, busUsage("--to %q: stream=%q: a JetStream stream name has no '.', ' ', '*' or '>'", redact(rawURL), stream)
	}
	subjects := []string{relay.DefaultTopic}
	switch {
	case prefix != "":
		subjects = []string{prefix + ".>"}
	case subject != "":
		subjects = []string{subject}
	}
	var servers []string
	for h := range strings.SplitSeq(u.Host, ",") {
		s := &url.URL{Scheme: "nats", User: u.User, Host: h}
		servers = append(servers, s.String())
	}
	nc, err := nats.Connect(strings.Join(servers, ","), nats.Timeout(timeout), nats.Name("eventstore dispatch run"),
		nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		return nil, &brokerError{url: rawURL, err: err}
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(timeout))
	if err != nil {
		nc.Close()
		return nil, &brokerError{url: rawURL, err: err}
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := js.Stream(cctx, stream); err != nil {
		if !errors.Is(err, jetstream.ErrStreamNotFound) || !create {
			nc.Close()
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				err = fmt.Errorf("JetStream stream %q does not exist (create=false): %w", stream, err)
			}
			return nil, &brokerError{url: rawURL, err: err}
		}
		if _, err := js.CreateStream(cctx, jetstream.StreamConfig{Name: stream, Subjects: subjects, Storage: jetstream.FileStorage}); err != nil {
			nc.Close()
			return nil, &brokerError{url: rawURL, err: fmt.Errorf("creating JetStream stream %q on subjects %v: %w", stream, subjects, err)}
		}
	}
	return &bus{name: "nats", pub: natsjs.New(js, stream, natsjs.Options{NoFence: !fence}), opts: relay.Options{Topic: topic},
		close: func() { _ = nc.Drain() }}, nil
}

func openKafka(ctx context.Context, rawURL string, u *url.URL, q url.Values, timeout time.Duration) (*bus, error) {
	topic := strings.Trim(u.Path, "/")
	prefix, clientID := take(q, "prefix"), take(q, "client_id")
	if err := unknownOptions(rawURL, q); err != nil {
		return nil, err
	}
	if clientID == "" {
		clientID = "eventstore-cli"
	}
	if strings.Contains(topic, "/") {
		return nil, busUsage("--to %q: topic %q: one topic after the brokers, as kafka://BROKER:9092/TOPIC", redact(rawURL), topic)
	}
	tf, err := topicOption(rawURL, "topic", topic, prefix)
	if err != nil {
		return nil, err
	}
	var seeds []string
	for h := range strings.SplitSeq(u.Host, ",") {
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "9092")
		}
		seeds = append(seeds, h)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ClientID(clientID),
		kgo.DialTimeout(timeout), kgo.RecordDeliveryTimeout(timeout), kgo.ProduceRequestTimeout(timeout))
	if err != nil {
		return nil, busUsage("--to %q: %v", redact(rawURL), err)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := cl.Ping(cctx); err != nil {
		cl.Close()
		return nil, &brokerError{url: rawURL, err: err}
	}
	return &bus{name: "kafka", pub: kafka.New(cl), opts: relay.Options{Topic: tf}, close: cl.Close}, nil
}
