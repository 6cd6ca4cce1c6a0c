package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/relay"
)

// received is a message as a broker holds it.
type received struct {
	id, topic, key string
	headers        map[string]string
	body           []byte
	partition      int32
}

// natsServer starts an embedded NATS server with JetStream (file store
// in a temporary directory) on a loopback port, and returns its URL.
func natsServer(t *testing.T) string {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("the embedded NATS server did not start")
	}
	return srv.ClientURL()
}

// natsMessages returns every message of a JetStream stream, in stream order.
func natsMessages(t *testing.T, url, stream string) []received {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []received
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		h := map[string]string{}
		for k, v := range m.Header {
			if k != jetstream.MsgIDHeader {
				h[k] = v[0]
			}
		}
		out = append(out, received{id: m.Header.Get(jetstream.MsgIDHeader), topic: m.Subject, headers: h, body: m.Data})
	}
	return out
}

// expected returns the messages the relay makes of the commits of store e
// with checkpoints in want, in checkpoint order: what dispatch run must
// have published, byte for byte.
func expected(t *testing.T, e *persistence.Engine, opts relay.Options, want func(cp int64) bool) []relay.Message {
	t.Helper()
	var out []relay.Message
	for c, err := range eventstore.New(e, eventstore.Options{}).Commits(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if !want(c.Checkpoint) {
			continue
		}
		m, err := relay.Encode(&c, &opts)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// checkArrived checks that got holds exactly the messages of want, once
// each, with the same ID, topic, key (if the broker keeps one), headers and
// body, in order (per partition, for Kafka).
func checkArrived(t *testing.T, got []received, want []relay.Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("the broker holds %d messages, want %d", len(got), len(want))
	}
	byID := map[string]relay.Message{}
	for _, m := range want {
		byID[m.ID] = m
	}
	seen := map[string]bool{}
	last := map[int32]int64{}
	for _, g := range got {
		w, ok := byID[g.id]
		switch {
		case !ok:
			t.Errorf("message %s: not one of the undispatched commits", g.id)
			continue
		case seen[g.id]:
			t.Errorf("message %s: published twice", g.id)
		case g.topic != w.Topic:
			t.Errorf("message %s: topic %q, want %q", g.id, g.topic, w.Topic)
		case g.key != "" && g.key != w.Key:
			t.Errorf("message %s: key %q, want %q", g.id, g.key, w.Key)
		case !maps.Equal(g.headers, w.Headers):
			t.Errorf("message %s: headers %v, want %v", g.id, g.headers, w.Headers)
		case !bytes.Equal(g.body, w.Body):
			t.Errorf("message %s: body\n%s\nwant\n%s", g.id, g.body, w.Body)
		}
		seen[g.id] = true
		if w.Checkpoint <= last[g.partition] {
			t.Errorf("message %s (checkpoint %d) after checkpoint %d: out of order", g.id, w.Checkpoint, last[g.partition])
		}
		last[g.partition] = w.Checkpoint
	}
}

// seedDispatchStore writes 3 streams of 40 commits to two buckets of a
// named memory store and marks the first 10 checkpoints dispatched.
func seedDispatchStore(t *testing.T, ms *memStores, name string) *persistence.Engine {
	t.Helper()
	e := ms.get(t, name)
	for i, b := range []string{"default", "tenant-7", "default"} {
		if err := seed(e, b, fmt.Sprint("s", i), 40, nil); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for c, err := range e.Undispatched(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Checkpoint <= 10 {
			if err := e.MarkDispatched(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	return e
}

func undispatchedCPs(t *testing.T, e *persistence.Engine) []int64 {
	t.Helper()
	var cps []int64
	for c, err := range e.Undispatched(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		cps = append(cps, c.Checkpoint)
	}
	return cps
}

// runCLI runs the command in-process and fails the test unless it exits
// with code.
func runCLI(t *testing.T, ctx context.Context, ms *memStores, code int, args ...string) (stdout, stderr string) {
	t.Helper()
	a, out, errb := testApp(ms, t.TempDir(), func(string) string { return "" })
	if got := a.run(ctx, args); got != code {
		t.Fatalf("eventstore %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, code, out, errb)
	}
	return out.String(), errb.String()
}

// TestDispatchRunNATS: dispatch run publishes every undispatched commit to
// a real JetStream stream (an embedded NATS server), exactly as the relay
// encodes it, in checkpoint order, and marks them dispatched; a second run
// publishes nothing; --follow publishes new commits until interrupted.
func TestDispatchRunNATS(t *testing.T) {
	url := natsServer(t)
	ms := &memStores{}
	e := seedDispatchStore(t, ms, "a")
	ctx := context.Background()
	to := url + "?stream=EVENTS&prefix=events"
	opts := relay.Options{Topic: relay.ByBucket("events")}
	want := expected(t, e, opts, func(cp int64) bool { return cp > 10 })

	out, _ := runCLI(t, ctx, ms, 0, "dispatch", "run", "--store", "memory://a", "--to", to, "--batch", "7", "-q")
	if !strings.Contains(out, "published 110 commits") {
		t.Errorf("stdout %q, want published 110 commits", out)
	}
	checkArrived(t, natsMessages(t, url, "EVENTS"), want)
	if u := undispatchedCPs(t, e); len(u) != 0 {
		t.Errorf("undispatched after the run: %v", u)
	}

	out, _ = runCLI(t, ctx, ms, 0, "dispatch", "run", "--store", "memory://a", "--to", to, "-o", "json")
	if !strings.Contains(out, `"published":0`) {
		t.Errorf("second run: stdout %q, want published 0", out)
	}
	checkArrived(t, natsMessages(t, url, "EVENTS"), want)

	// --follow: new commits are published as they come, until Ctrl-C.
	fctx, stop := context.WithCancel(ctx)
	done := make(chan string)
	go func() {
		out, _ := runCLI(t, fctx, ms, 0, "dispatch", "run", "--store", "memory://a", "--to", to, "--follow", "--poll", "20ms", "-q")
		done <- out
	}()
	if err := seed(e, "default", "late", 5, nil); err != nil {
		t.Fatal(err)
	}
	want = expected(t, e, opts, func(cp int64) bool { return cp > 10 })
	deadline := time.Now().Add(20 * time.Second)
	for len(natsMessages(t, url, "EVENTS")) < len(want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if out := <-done; !strings.Contains(out, "published 5 commits") {
		t.Errorf("follow: stdout %q, want published 5 commits", out)
	}
	checkArrived(t, natsMessages(t, url, "EVENTS"), want)
	if u := undispatchedCPs(t, e); len(u) != 0 {
		t.Errorf("undispatched after following: %v", u)
	}
}

// TestDispatchRunKafka: the same against a Kafka-protocol cluster
// (kfake): one record per undispatched commit, keyed by bucket/stream, in
// checkpoint order per partition; a second run publishes nothing.
func TestDispatchRunKafka(t *testing.T) {
	const topic = "commits"
	c, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.SeedTopics(4, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ms := &memStores{}
	e := seedDispatchStore(t, ms, "a")
	ctx := context.Background()
	to := "kafka://" + strings.Join(c.ListenAddrs(), ",") + "/" + topic
	want := expected(t, e, relay.Options{Topic: func(*eventstore.Commit) string { return topic }}, func(cp int64) bool { return cp > 10 })

	out, _ := runCLI(t, ctx, ms, 0, "dispatch", "run", "--store", "memory://a", "--to", to, "-q")
	if !strings.Contains(out, "published 110 commits") {
		t.Errorf("stdout %q, want published 110 commits", out)
	}
	if u := undispatchedCPs(t, e); len(u) != 0 {
		t.Errorf("undispatched after the run: %v", u)
	}
	out, _ = runCLI(t, ctx, ms, 0, "dispatch", "run", "--store", "memory://a", "--to", to, "-q")
	if !strings.Contains(out, "published 0 commits") {
		t.Errorf("second run: stdout %q, want published 0 commits", out)
	}
	checkArrived(t, kafkaRecords(t, c, topic, len(want)), want)
}

// kafkaRecords reads the topic from the start until it holds n records,
// then a little longer (so that extra copies would show), and returns them.
func kafkaRecords(t *testing.T, c *kfake.Cluster, topic string, n int) []received {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []received
	end := time.Now().Add(30 * time.Second)
	for time.Now().Before(end) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			h := map[string]string{}
			for _, x := range r.Headers {
				h[x.Key] = string(x.Value)
			}
			out = append(out, received{id: h[relay.HeaderCommitID], topic: r.Topic, key: string(r.Key), headers: h, body: r.Value, partition: r.Partition})
		})
		if len(out) >= n && time.Until(end) > time.Second {
			end = time.Now().Add(time.Second)
		}
	}
	return out
}

// TestDispatchRunInterrupted: Ctrl-C midway leaves only published commits
// marked (every marked commit is in the stream), and the next run publishes
// the rest, each commit once in the stream.
func TestDispatchRunInterrupted(t *testing.T) {
	url := natsServer(t)
	ms := &memStores{}
	e := seedDispatchStore(t, ms, "a")
	to := url + "?stream=EVENTS"
	want := expected(t, e, relay.Options{}, func(cp int64) bool { return cp > 10 })

	ctx, stop := context.WithCancel(context.Background())
	a, _, errb := testApp(ms, t.TempDir(), func(string) string { return "" })
	batches := 0
	a.wrote = func() {
		if batches++; batches == 3 {
			stop() // Ctrl-C while the fourth batch is published
		}
	}
	if code := a.run(ctx, []string{"dispatch", "run", "--store", "memory://a", "--to", to, "--batch", "5", "-q"}); code != exitError {
		t.Fatalf("interrupted run: exit %d, want 1\n%s", code, errb)
	}
	if !strings.Contains(errb.String(), "interrupted after publishing") || !strings.Contains(errb.String(), "hint: interrupted") {
		t.Errorf("stderr: %s", errb)
	}
	stored := map[int64]bool{}
	for _, m := range natsMessages(t, url, "EVENTS") {
		cp, _ := strconv.ParseInt(m.headers[relay.HeaderCheckpoint], 10, 64)
		stored[cp] = true
	}
	left := map[int64]bool{}
	for _, cp := range undispatchedCPs(t, e) {
		left[cp] = true
	}
	marked := 0
	for cp := int64(11); cp <= 120; cp++ {
		if !left[cp] {
			marked++
			if !stored[cp] {
				t.Errorf("checkpoint %d is marked dispatched but not in the stream", cp)
			}
		}
	}
	if marked < 15 || marked == 110 {
		t.Errorf("%d commits marked after Ctrl-C at the fourth batch of 5: want 15 to 19", marked)
	}
	runCLI(t, context.Background(), ms, 0, "dispatch", "run", "--store", "memory://a", "--to", to, "-q")
	checkArrived(t, natsMessages(t, url, "EVENTS"), want)
	if u := undispatchedCPs(t, e); len(u) != 0 {
		t.Errorf("undispatched after the second run: %v", u)
	}
}

// TestDispatchRunErrors: an unknown scheme or a bad option is a usage error
// (exit 2), an unreachable broker or a missing stream an error (exit 1),
// each with a hint; nothing is marked.
func TestDispatchRunErrors(t *testing.T) {
	url := natsServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String() // nothing listens there once closed
	l.Close()
	ms := &memStores{}
	e := seedDispatchStore(t, ms, "a")
	for _, c := range []struct {
		to   string
		code int
		want string
	}{
		{"amqp://127.0.0.1:5672", exitUsage, `unknown broker scheme "amqp"`},
		{"127.0.0.1:4222", exitUsage, "not a broker URL"},
		{url + "?stream=EVENTS&bogus=1", exitUsage, `unknown option "bogus"`},
		{url + "?fence=maybe", exitUsage, `fence="maybe": want true or false`},
		{url + "?subject=a&prefix=b", exitUsage, "not both"},
		{url + "?stream=A.B", exitUsage, "a JetStream stream name has no"},
		{"kafka://127.0.0.1:9092/a/b", exitUsage, "one topic after the brokers"},
		{"nats://" + closed, exitError, "broker nats://" + closed},
		{"kafka://" + closed + "/t", exitError, "broker kafka://" + closed},
		{url + "?stream=NONE&create=false", exitError, `JetStream stream "NONE" does not exist`},
	} {
		_, stderr := runCLI(t, context.Background(), ms, c.code, "dispatch", "run", "--store", "memory://a", "--to", c.to, "--timeout", "2s")
		if !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "\nhint: ") {
			t.Errorf("--to %s: stderr\n%s\nwant %q and a hint", c.to, stderr, c.want)
		}
	}
	runCLI(t, context.Background(), ms, exitUsage, "dispatch", "run", "--store", "memory://a")
	if u := undispatchedCPs(t, e); len(u) != 110 {
		t.Errorf("%d undispatched after the failed runs, want 110", len(u))
	}
}

type orderPlaced struct {
	Order string `json:"order"`
	Cents int64  `json:"cents"`
}

// TestDispatchRunKeepsTypes: an event of a registered type goes out under
// its stored type name, with its JSON as stored (an int64 beyond float64's
// precision intact), although the command knows no Go types.
func TestDispatchRunKeepsTypes(t *testing.T) {
	url := natsServer(t)
	ms := &memStores{}
	e := ms.get(t, "a")
	types := eventstore.NewTypeRegistry()
	if err := types.Register("OrderPlaced", orderPlaced{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := eventstore.New(e, eventstore.Options{Serializer: eventstore.NewJSONSerializer(types)})
	st, err := s.OpenStream(ctx, "order-1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	st.Add(eventstore.EventMessage{Body: orderPlaced{Order: "o-1", Cents: 1<<62 + 1}}, eventstore.EventMessage{Body: []any{"x"}})
	if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
		t.Fatal(err)
	}
	runCLI(t, ctx, ms, 0, "dispatch", "run", "--store", "memory://a", "--to", url+"?stream=EVENTS", "-q")
	got := natsMessages(t, url, "EVENTS")
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	if h := got[0].headers[relay.HeaderEventTypes]; h != "OrderPlaced,array" {
		t.Errorf("event types header %q, want OrderPlaced,array", h)
	}
	var body relay.Body
	if err := json.Unmarshal(got[0].body, &body); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"order":"o-1","cents":%d}`, int64(1<<62+1))
	if len(body.Events) != 2 || string(body.Events[0].Body) != want || body.Events[0].Type != "OrderPlaced" || string(body.Events[1].Body) != `["x"]` {
		t.Errorf("events %s, want the first %s", got[0].body, want)
	}
}

// lockedBuffer is a buffer a command writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDispatchRunFollowOutage: a following run waits out a broker that
// goes away (the embedded server shut down, then started again on the same
// port and data): it says so, publishes what came meanwhile once the broker
// is back, and marks nothing the broker lacks.
func TestDispatchRunFollowOutage(t *testing.T) {
	dir := t.TempDir()
	start := func(port int) *server.Server {
		srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
		if err != nil {
			t.Fatal(err)
		}
		srv.Start()
		if !srv.ReadyForConnections(10 * time.Second) {
			t.Fatal("the embedded NATS server did not start")
		}
		return srv
	}
	srv := start(-1)
	port := srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	url := srv.ClientURL()

	ms := &memStores{}
	e := seedDispatchStore(t, ms, "a")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var out bytes.Buffer
	errb := &lockedBuffer{}
	a := newApp(strings.NewReader(""), &out, errb)
	a.open, a.release, a.getenv = ms.open, ms.release, func(string) string { return "" }
	done := make(chan int)
	go func() {
		done <- a.run(ctx, []string{"dispatch", "run", "--store", "memory://a", "--to", url + "?stream=EVENTS", "--follow", "--poll", "20ms", "--timeout", "1s", "-q"})
	}()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(30 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("gave up waiting for %s; stderr:\n%s", what, errb)
			}
		}
	}
	waitFor("the backlog", func() bool { return len(undispatchedCPs(t, e)) == 0 })

	srv.Shutdown()
	srv.WaitForShutdown()
	if err := seed(e, "default", "during-outage", 5, nil); err != nil {
		t.Fatal(err)
	}
	waitFor("a retry message", func() bool { return strings.Contains(errb.String(), "trying again") })
	if u := undispatchedCPs(t, e); len(u) != 5 {
		t.Errorf("undispatched while the broker is away: %v, want the 5 new commits", u)
	}
	srv = start(port)
	waitFor("the commits made during the outage", func() bool { return len(undispatchedCPs(t, e)) == 0 })
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d\n%s", code, errb)
	}
	if !strings.Contains(errb.String(), "eventstore: broker nats://127.0.0.1:") {
		t.Errorf("stderr does not name the broker it waited for:\n%s", errb)
	}
	t.Logf("stderr:\n%s", errb)
	checkArrived(t, natsMessages(t, url, "EVENTS"), expected(t, e, relay.Options{}, func(cp int64) bool { return cp > 10 }))
}
