package watermill_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/relay/internal/relaytest"
	"github.com/goeventstore/eventstore/relay/watermill"
)

// subscribe collects the messages of topic from the Go channel Pub/Sub,
// acking each.
func subscribe(t *testing.T, ps *gochannel.GoChannel, topic string) func() []relaytest.Received {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := ps.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan relaytest.Received, 10_000)
	go func() {
		for m := range ch {
			cp, _ := strconv.ParseInt(m.Metadata.Get(relay.HeaderCheckpoint), 10, 64)
			if m.UUID != m.Metadata.Get(relay.HeaderCommitID) {
				t.Errorf("message UUID %s, want the commit ID %s", m.UUID, m.Metadata.Get(relay.HeaderCommitID))
			}
			got <- relaytest.Received{CommitID: m.UUID, Key: m.Metadata.Get(watermill.MetadataKey), Checkpoint: cp}
			m.Ack()
		}
	}()
	return func() []relaytest.Received {
		var out []relaytest.Received
		for {
			select {
			case r := <-got:
				out = append(out, r)
			default:
				return out
			}
		}
	}
}

// TestEndToEnd: with the in-process Pub/Sub blocking each Publish until
// the subscriber acked, every commit arrives once, in checkpoint order,
// with the commit ID as UUID, across relay restarts from a checkpoint file.
func TestEndToEnd(t *testing.T) {
	ps := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true, Persistent: true}, wm.NopLogger{})
	defer ps.Close()
	received := subscribe(t, ps, relay.DefaultTopic)
	s := relaytest.Store(t)
	wait := relaytest.Writer(t, s, 200)
	file := &relay.File{Path: filepath.Join(t.TempDir(), "checkpoint")}
	var all []*eventstore.Commit
	for round := 0; ; round++ {
		o := relaytest.Fast()
		o.Checkpoints, o.SaveEvery = file, time.Millisecond
		r, err := relay.New(s, watermill.New(ps), o)
		if err != nil {
			t.Fatal(err)
		}
		stop := relaytest.Run(t, r)
		time.Sleep(15 * time.Millisecond)
		if all != nil {
			relaytest.WaitFor(t, "every commit", func() bool { return r.Position() == all[len(all)-1].Checkpoint })
			if err := stop(); !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
			break
		}
		stop()
		if round >= 5 {
			all = wait()
		}
	}
	got := received()
	copies := relaytest.CheckAtLeastOnceInOrder(t, got, all)
	t.Logf("%d commits, %d messages, %d copies", len(all), len(got), copies)
}

// refusing is a Watermill publisher over the Go channel whose broker
// refuses messages while refuse is set.
type refusing struct {
	message.Publisher
	refuse  chan struct{}
	refused int
}

func (p *refusing) Publish(topic string, msgs ...*message.Message) error {
	select {
	case <-p.refuse:
		return p.Publisher.Publish(topic, msgs...)
	default:
		p.refused++
		return errors.New("broker refused the message (injected)")
	}
}

// TestRefusedNeverSkipped: a Publish that fails stops the relay's progress
// until it succeeds; nothing is skipped.
func TestRefusedNeverSkipped(t *testing.T) {
	ps := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, wm.NopLogger{})
	defer ps.Close()
	received := subscribe(t, ps, relay.DefaultTopic)
	s := relaytest.Store(t)
	all := relaytest.Writer(t, s, 30)()
	p := &refusing{Publisher: ps, refuse: make(chan struct{})}
	o := relaytest.Fast()
	o.Checkpoints = &relay.File{Path: filepath.Join(t.TempDir(), "checkpoint")}
	r, _ := relay.New(s, watermill.New(p), o)
	stop := relaytest.Run(t, r)
	time.Sleep(100 * time.Millisecond)
	if r.Position() != 0 || len(received()) != 0 {
		t.Fatalf("Position %d while every publish is refused, want 0", r.Position())
	}
	close(p.refuse)
	relaytest.WaitFor(t, "every commit", func() bool { return r.Position() == all[len(all)-1].Checkpoint })
	stop()
	if p.refused < 2 {
		t.Errorf("%d refusals: the relay did not retry", p.refused)
	}
	got := received()
	if copies := relaytest.CheckAtLeastOnceInOrder(t, got, all); copies != 0 {
		t.Errorf("%d copies, want none", copies)
	}
}
