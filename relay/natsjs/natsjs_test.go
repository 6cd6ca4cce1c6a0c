package natsjs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/relay/internal/relaytest"
	"github.com/goeventstore/eventstore/relay/natsjs"
)

// messages returns every message of the stream, in stream order.
func messages(t testing.TB, js jetstream.JetStream, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		out = append(out, m)
	}
	return out
}

func count(t testing.TB, js jetstream.JetStream, name string) uint64 {
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		return 0 // a restarting server
	}
	return info.State.Msgs
}

// checkExactlyInOrder fails unless the stream holds exactly the commits of
// want, each once, in checkpoint order.
func checkExactlyInOrder(t testing.TB, js jetstream.JetStream, want []*eventstore.Commit) {
	t.Helper()
	got := messages(t, js, "EVENTS")
	var gotCP, wantCP []string
	for _, m := range got {
		gotCP = append(gotCP, m.Header.Get(relay.HeaderCheckpoint))
	}
	for _, c := range want {
		wantCP = append(wantCP, strconv.FormatInt(c.Checkpoint, 10))
	}
	if strings.Join(gotCP, " ") != strings.Join(wantCP, " ") {
		t.Fatalf("the stream holds checkpoints\n%v\nwant each commit once, in checkpoint order:\n%v", gotCP, wantCP)
	}
	for i, m := range got {
		if id := m.Header.Get(jetstream.MsgIDHeader); id != want[i].CommitID.String() {
			t.Errorf("message %d has Nats-Msg-Id %q, want the commit ID %s", i, id, want[i].CommitID)
		}
	}
}

// TestEndToEnd: every commit, stored before and while the relay runs,
// arrives once, in checkpoint order, with the documented ID, headers and
// body; a consumer of the JetStream stream receives them.
func TestEndToEnd(t *testing.T) {
	b := newBroker(t)
	_, js := b.connect()
	b.stream(js, jetstream.StreamConfig{})
	s := relaytest.Store(t)
	var want []*eventstore.Commit
	for i := range 20 {
		want = append(want, relaytest.Commit(t, s, []string{"a", "b"}[i%2], fmt.Sprint("order-", i%3), relaytest.OrderPlaced{Order: fmt.Sprint(i), Total: i * 10}))
	}
	r, err := relay.New(s, natsjs.New(js, "EVENTS", natsjs.Options{}), relay.Options{
		Topic: relay.ByBucket("eventstore"), CloudEvents: true, Read: relaytest.Fast().Read,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := relaytest.Run(t, r)
	for i := range 10 {
		want = append(want, relaytest.Commit(t, s, "b", "late", relaytest.OrderPlaced{Order: fmt.Sprint("late-", i)}))
	}
	relaytest.WaitFor(t, "every message", func() bool { return count(t, js, "EVENTS") >= uint64(len(want)) })
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	checkExactlyInOrder(t, js, want)
	msgs := messages(t, js, "EVENTS")
	for i, m := range msgs {
		c := want[i]
		h := m.Header
		if m.Subject != "eventstore."+c.BucketID {
			t.Errorf("message %d subject %q, want %q", i, m.Subject, "eventstore."+c.BucketID)
		}
		for k, v := range map[string]string{
			relay.HeaderBucket: c.BucketID, relay.HeaderStream: c.StreamID, relay.HeaderCommitID: c.CommitID.String(),
			relay.HeaderCommitSequence: strconv.Itoa(c.CommitSequence), relay.HeaderStreamRevision: strconv.Itoa(c.StreamRevision),
			relay.HeaderCommitStamp: c.CommitStamp.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
			relay.HeaderEventTypes:  "OrderPlaced", relay.HeaderCEID: c.CommitID.String(), relay.HeaderCESubject: c.StreamID,
			relay.HeaderContentType: "application/json",
		} {
			if got := h.Get(k); got != v {
				t.Errorf("message %d header %s = %q, want %q", i, k, got, v)
			}
		}
		var body relay.Body
		if err := json.Unmarshal(m.Data, &body); err != nil {
			t.Fatalf("message %d body: %v\n%s", i, err, m.Data)
		}
		var ev relaytest.OrderPlaced
		if len(body.Events) != 1 || body.Events[0].Type != "OrderPlaced" || json.Unmarshal(body.Events[0].Body, &ev) != nil ||
			ev != c.Events[0].Body.(relaytest.OrderPlaced) || body.Checkpoint != c.Checkpoint || body.Stream != c.StreamID ||
			!body.CommitStamp.Equal(c.CommitStamp) || body.Events[0].Headers["user"] != "ann" {
			t.Errorf("message %d body %s does not describe commit %+v", i, m.Data, c)
		}
	}
	// A consumer sees the same.
	cons, err := js.OrderedConsumer(context.Background(), "EVENTS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(len(want), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for m := range batch.Messages() {
		if id := m.Headers().Get(relay.HeaderCommitID); i < len(want) && id != want[i].CommitID.String() {
			t.Errorf("consumer message %d is commit %s, want %s", i, id, want[i].CommitID)
		}
		i++
	}
	if i != len(want) {
		t.Errorf("the consumer received %d messages, want %d", i, len(want))
	}
}

// TestCrashes: the relay is killed (its context cancelled, mid-publish or
// not) at random points while commits keep coming, and started again with a
// new connection and publisher each time, resuming from the broker alone:
// nothing is lost, nothing is stored twice, nothing is out of order.
func TestCrashes(t *testing.T) {
	b := newBroker(t)
	_, js := b.connect()
	b.stream(js, jetstream.StreamConfig{})
	s := relaytest.Store(t)
	wait := relaytest.Writer(t, s, 300)
	var all []*eventstore.Commit
	for round := 0; ; round++ {
		_, js := b.connect()
		r, err := relay.New(s, natsjs.New(js, "EVENTS", natsjs.Options{}), relaytest.Fast())
		if err != nil {
			t.Fatal(err)
		}
		stop := relaytest.Run(t, r)
		time.Sleep(time.Duration(rand.IntN(15_000)) * time.Microsecond)
		if all != nil {
			relaytest.WaitFor(t, "the last messages", func() bool { return count(t, js, "EVENTS") >= uint64(len(all)) })
			stop()
			break
		}
		stop()
		if round >= 15 {
			all = wait()
		}
	}
	checkExactlyInOrder(t, js, all)
}

// storedThenFailed wraps a publisher: every third call, it publishes (the
// broker stores the messages) and then reports a failure, as when the
// connection drops before the acknowledgement arrives.
type storedThenFailed struct {
	relay.Resumer
	calls atomic.Int64
}

func (p *storedThenFailed) Publish(ctx context.Context, msgs []relay.Message) (int, error) {
	n, err := p.Resumer.Publish(ctx, msgs)
	if err == nil && p.calls.Add(1)%3 == 0 {
		return n / 2, errors.New("connection lost before the acknowledgement (injected)")
	}
	return n, err
}

// TestAcknowledgementLost: the broker stored messages but the relay was told
// they failed; it publishes them again, the broker drops the copies
// (Nats-Msg-Id), and the stream holds every commit once, in order.
func TestAcknowledgementLost(t *testing.T) {
	b := newBroker(t)
	_, js := b.connect()
	b.stream(js, jetstream.StreamConfig{})
	s := relaytest.Store(t)
	wait := relaytest.Writer(t, s, 120)
	p := &storedThenFailed{Resumer: natsjs.New(js, "EVENTS", natsjs.Options{})}
	r, _ := relay.New(s, p, relaytest.Fast())
	stop := relaytest.Run(t, r)
	all := wait()
	relaytest.WaitFor(t, "every commit relayed", func() bool { return r.Position() == all[len(all)-1].Checkpoint })
	stop()
	if p.calls.Load() < 3 {
		t.Fatalf("only %d publish calls: no failure was injected", p.calls.Load())
	}
	checkExactlyInOrder(t, js, all)
}

// TestTwoRelays: two relays started by mistake on the same store and
// stream, each on its own connection, while commits keep coming: the fence
// (Nats-Expected-Last-Msg-Id) and deduplication (Nats-Msg-Id) leave every
// commit once, in checkpoint order.
func TestTwoRelays(t *testing.T) {
	b := newBroker(t)
	_, js := b.connect()
	b.stream(js, jetstream.StreamConfig{})
	s := relaytest.Store(t)
	wait := relaytest.Writer(t, s, 300)
	var stops []func() error
	for range 2 {
		_, js := b.connect()
		r, _ := relay.New(s, natsjs.New(js, "EVENTS", natsjs.Options{}), relaytest.Fast())
		stops = append(stops, relaytest.Run(t, r))
	}
	all := wait()
	relaytest.WaitFor(t, "every message", func() bool { return count(t, js, "EVENTS") >= uint64(len(all)) })
	time.Sleep(50 * time.Millisecond) // both relays go on polling: nothing more may be stored
	for _, stop := range stops {
		if err := stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	}
	checkExactlyInOrder(t, js, all)
}

// TestBrokerRestart: the NATS server shuts down mid-run and starts again
// on its store; the relay waits, reconnects and goes on: nothing lost,
// nothing twice.
func TestBrokerRestart(t *testing.T) {
	b := newBroker(t)
	_, js := b.connect()
	b.stream(js, jetstream.StreamConfig{})
	s := relaytest.Store(t)
	wait := relaytest.Writer(t, s, 200)
	r, _ := relay.New(s, natsjs.New(js, "EVENTS", natsjs.Options{}), relaytest.Fast())
	stop := relaytest.Run(t, r)
	relaytest.WaitFor(t, "some messages", func() bool { return count(t, js, "EVENTS") > 20 })
	b.stop()
	time.Sleep(300 * time.Millisecond)
	b.start()
	all := wait()
	relaytest.WaitFor(t, "every commit relayed", func() bool { return r.Position() == all[len(all)-1].Checkpoint })
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	checkExactlyInOrder(t, js, all)
}

// TestRefusedNeverSkipped: a commit the broker refuses (over the stream's
// maximum message size) stops the relay's progress: the commits after it
// are not published, and once the limit is raised it goes through, in order.
func TestRefusedNeverSkipped(t *testing.T) {
	b := newBroker(t)
	_, js := b.connect()
	cfg := jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"eventstore.>"}, MaxMsgSize: 4096}
	b.stream(js, cfg)
	s := relaytest.Store(t)
	var want []*eventstore.Commit
	for i := range 3 {
		want = append(want, relaytest.Commit(t, s, "a", "s", relaytest.OrderPlaced{Order: fmt.Sprint(i)}))
	}
	want = append(want, relaytest.Commit(t, s, "a", "s", relaytest.OrderPlaced{Order: strings.Repeat("x", 10_000)}))
	for i := range 3 {
		want = append(want, relaytest.Commit(t, s, "a", "s", relaytest.OrderPlaced{Order: fmt.Sprint(i)}))
	}
	r, _ := relay.New(s, natsjs.New(js, "EVENTS", natsjs.Options{}), relaytest.Fast())
	stop := relaytest.Run(t, r)
	relaytest.WaitFor(t, "the commits before the big one", func() bool { return count(t, js, "EVENTS") == 3 })
	time.Sleep(200 * time.Millisecond) // many retries
	if n := count(t, js, "EVENTS"); n != 3 {
		t.Fatalf("the stream holds %d messages while the 4th is refused, want 3", n)
	}
	if r.Position() != want[2].Checkpoint {
		t.Errorf("Position = %d while the 4th commit is refused, want %d", r.Position(), want[2].Checkpoint)
	}
	cfg.MaxMsgSize = 1 << 20
	b.stream(js, cfg)
	relaytest.WaitFor(t, "every message", func() bool { return count(t, js, "EVENTS") == uint64(len(want)) })
	stop()
	checkExactlyInOrder(t, js, want)
}

// TestBeyondDuplicateWindow: a publisher that knows an old last message
// (a second relay that paused) publishes copies after the stream's
// duplicate window has passed: without the fence they would be stored
// again; with it the server refuses them and the publisher reports
// relay.ErrOutOfSync, so that its relay resumes from the broker.
func TestBeyondDuplicateWindow(t *testing.T) {
	b := newBroker(t)
	_, js := b.connect()
	b.stream(js, jetstream.StreamConfig{Duplicates: 100 * time.Millisecond})
	ctx := context.Background()
	s := relaytest.Store(t)
	var msgs []relay.Message
	var want []*eventstore.Commit
	for i := range 5 {
		c := relaytest.Commit(t, s, "a", "s", relaytest.OrderPlaced{Order: fmt.Sprint(i)})
		m, err := relay.Encode(c, &relay.Options{})
		if err != nil {
			t.Fatal(err)
		}
		msgs, want = append(msgs, m), append(want, c)
	}
	first := natsjs.New(js, "EVENTS", natsjs.Options{})
	if _, err := first.Last(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := first.Publish(ctx, msgs[:3]); n != 3 || err != nil {
		t.Fatalf("Publish = %d, %v", n, err)
	}
	stale := natsjs.New(js, "EVENTS", natsjs.Options{})
	if cp, err := stale.Last(ctx); cp != want[2].Checkpoint || err != nil {
		t.Fatalf("Last = %d, %v; want %d", cp, err, want[2].Checkpoint)
	}
	if n, err := first.Publish(ctx, msgs[3:]); n != 2 || err != nil {
		t.Fatalf("Publish = %d, %v", n, err)
	}
	time.Sleep(300 * time.Millisecond) // past the duplicate window
	n, err := stale.Publish(ctx, msgs[3:])
	if n != 0 || !errors.Is(err, relay.ErrOutOfSync) {
		t.Fatalf("the stale publisher's copies beyond the window: Publish = %d, %v; want 0, ErrOutOfSync", n, err)
	}
	checkExactlyInOrder(t, js, want)
	if cp, err := stale.Last(ctx); cp != want[4].Checkpoint || err != nil {
		t.Fatalf("Last after the refusal = %d, %v; want %d", cp, err, want[4].Checkpoint)
	}
}
