// Package natsjs publishes a relay's messages to NATS JetStream
// (github.com/nats-io/nats.go/jetstream).
//
//	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
//	js, err := jetstream.New(nc)
//	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
//		Name: "EVENTS", Subjects: []string{"eventstore.>"}, Storage: jetstream.FileStorage,
//	})
//	r, err := relay.New(store, natsjs.New(js, "EVENTS", natsjs.Options{}), relay.Options{})
//	err = r.Run(ctx)
//
// # What the broker guarantees here
//
//   - Each message carries Nats-Msg-Id = the commit ID: a message published
//     again within the stream's duplicate window (StreamConfig.Duplicates,
//     default 2 minutes) is acknowledged as a duplicate and not stored again.
//   - Each message but the first of a publisher also carries
//     Nats-Expected-Last-Msg-Id = the commit ID of the message before it, so
//     the server stores it only right after that one. This fences: a message
//     is never stored after a gap (a publish that failed) or after another
//     relay's messages; the server refuses it, and the publisher reports
//     relay.ErrOutOfSync, after which the relay resumes from the stream's
//     last message (Last). Beyond the duplicate window, a relay that
//     restarts from an old checkpoint is therefore refused too, instead of
//     storing copies: the stream holds every commit once, in checkpoint order.
//   - Last reads the stream's last message and returns its checkpoint header:
//     the relay needs no checkpoint store, as long as the stream keeps its
//     last message. A stream whose limits can empty it (MaxAge, say) loses
//     the position with it: give the relay Options.Checkpoints as well (it
//     resumes from the greater of the two).
//
// So the JetStream stream must be the relay's own: every subject the relay
// publishes to must belong to it, and nothing else may publish to it (a
// foreign message breaks the chain: the relay reports that it cannot
// resume). Options.NoFence turns the expected-last check off, for the
// per-process relay.Dispatcher (several processes publishing) or streams
// shared with other publishers; messages are then deduplicated within the
// window only.
//
// JetStream acknowledges a message once it is stored in the stream (on a
// quorum of replicas, for replicated streams). A single server writes to its
// file store at once but syncs to disk periodically (sync_interval,
// 2 minutes by default): set it to "always" where a power loss must not
// lose acknowledged messages.
package natsjs

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/goeventstore/eventstore/relay"
)

// Options configure a Publisher.
type Options struct {
	// NoFence leaves out Nats-Expected-Last-Msg-Id (see the package
	// documentation). A Publisher with NoFence is still a relay.Resumer,
	// but two relays on one stream may then interleave their messages.
	NoFence bool
}

// Publisher publishes relay messages to one JetStream stream. It is safe
// for concurrent use, though a relay calls it from one goroutine.
type Publisher struct {
	js     jetstream.JetStream
	stream string
	opts   Options

	mu   sync.Mutex
	last string // commit ID of the last message known stored; "" if none or unknown
}

// New returns a publisher to the JetStream stream named stream, through js.
func New(js jetstream.JetStream, stream string, opts Options) *Publisher {
	return &Publisher{js: js, stream: stream, opts: opts}
}

// Publish publishes msgs asynchronously, in order, and waits for their
// acknowledgements; n counts the acknowledged prefix.
func (p *Publisher) Publish(ctx context.Context, msgs []relay.Message) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	prev := p.last
	var sendErr error
	for _, m := range msgs {
		nm := nats.NewMsg(m.Topic)
		nm.Data = m.Body
		for k, v := range m.Headers {
			nm.Header.Set(k, v)
		}
		opts := []jetstream.PublishOpt{jetstream.WithMsgID(m.ID)}
		if prev != "" && !p.opts.NoFence {
			opts = append(opts, jetstream.WithExpectLastMsgID(prev))
		}
		f, err := p.js.PublishMsgAsync(nm, opts...)
		if err != nil {
			sendErr = err
			break
		}
		futures = append(futures, f)
		prev = m.ID
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
			p.last = msgs[i].ID
		case err := <-f.Err():
			return i, p.failed(msgs[i], err)
		case <-ctx.Done():
			return i, ctx.Err()
		}
	}
	if sendErr != nil {
		return len(futures), p.failed(msgs[len(futures)], sendErr)
	}
	return len(msgs), nil
}

// failed wraps the error of message m.
func (p *Publisher) failed(m relay.Message, err error) error {
	var api *jetstream.APIError
	if errors.As(err, &api) && api.ErrorCode == errCodeWrongLastMsgID {
		p.last = "" // unknown now: Last reads it
		return fmt.Errorf("natsjs: publish checkpoint %d to %q: %w: %w", m.Checkpoint, m.Topic, relay.ErrOutOfSync, err)
	}
	return fmt.Errorf("natsjs: publish checkpoint %d to %q (stream %q): %w", m.Checkpoint, m.Topic, p.stream, err)
}

// errCodeWrongLastMsgID is JetStream's error code for a refused
// Nats-Expected-Last-Msg-Id (JSStreamWrongLastMsgIDErrF).
const errCodeWrongLastMsgID jetstream.ErrorCode = 10070

// Last returns the checkpoint of the stream's last message (0 if the
// stream is empty), and makes it the message the next Publish expects to
// follow.
func (p *Publisher) Last(ctx context.Context) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, err := p.js.Stream(ctx, p.stream)
	if err != nil {
		return 0, fmt.Errorf("natsjs: stream %q: %w", p.stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("natsjs: stream %q: %w", p.stream, err)
	}
	if info.State.LastSeq == 0 || info.State.Msgs == 0 {
		p.last = ""
		return 0, nil
	}
	m, err := s.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		return 0, fmt.Errorf("natsjs: stream %q: read the last message (sequence %d): %w", p.stream, info.State.LastSeq, err)
	}
	cp, err := relay.CheckpointOf(m.Header.Get)
	if err != nil {
		return 0, fmt.Errorf("natsjs: stream %q message %d: %w", p.stream, m.Sequence, err)
	}
	p.last = m.Header.Get(jetstream.MsgIDHeader)
	return cp, nil
}
