package kafka_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/relay/internal/relaytest"
	"github.com/goeventstore/eventstore/relay/kafka"
)

const topic = relay.DefaultTopic

// cluster starts an in-process Kafka-protocol cluster (kfake) on loopback
// with the relay's topic in 4 partitions.
func cluster(t testing.TB) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(4, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// client returns a producing client with kgo's defaults (idempotent,
// acks from all in-sync replicas), closed at cleanup.
func client(t testing.TB, c *kfake.Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.RetryBackoffFn(func(int) time.Duration { return 5 * time.Millisecond }), kgo.MetadataMinAge(10 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// consume reads the topic from the start until it has n records or 30
// seconds pass, and returns them (per partition in offset order).
func consume(t testing.TB, c *kfake.Cluster, n int) []relaytest.Received {
	t.Helper()
	cl := client(t, c, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []relaytest.Received
	for len(out) < n && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			h := map[string]string{}
			for _, x := range r.Headers {
				h[x.Key] = string(x.Value)
			}
			cp, _ := strconv.ParseInt(h[relay.HeaderCheckpoint], 10, 64)
			if string(r.Key) != h[relay.HeaderBucket]+"/"+h[relay.HeaderStream] {
				t.Errorf("record key %q, want bucket/stream of its headers %v", r.Key, h)
			}
			out = append(out, relaytest.Received{CommitID: h[relay.HeaderCommitID], Key: string(r.Key), Checkpoint: cp, Partition: r.Partition})
		})
	}
	if len(out) < n {
		t.Fatalf("consumed %d records, want at least %d", len(out), n)
	}
	return out
}

// TestEndToEnd: every commit arrives, as a record keyed by bucket/stream,
// with the documented headers, once, in checkpoint order per partition.
func TestEndToEnd(t *testing.T) {
	c := cluster(t)
	s := relaytest.Store(t)
	wait := relaytest.Writer(t, s, 150)
	file := &relay.File{Path: filepath.Join(t.TempDir(), "checkpoint")}
	o := relaytest.Fast()
	o.Checkpoints, o.CloudEvents, o.SaveEvery = file, true, 10*time.Millisecond
	r, err := relay.New(s, kafka.New(client(t, c)), o)
	if err != nil {
		t.Fatal(err)
	}
	stop := relaytest.Run(t, r)
	all := wait()
	relaytest.WaitFor(t, "every commit relayed", func() bool { return r.Position() == all[len(all)-1].Checkpoint })
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	got := consume(t, c, len(all))
	if copies := relaytest.CheckAtLeastOnceInOrder(t, got, all); copies != 0 || len(got) != len(all) {
		t.Errorf("%d records, %d copies; want %d records and no copy without a fault", len(got), copies, len(all))
	}
	if cp, err := file.Load(context.Background()); err != nil || cp != all[len(all)-1].Checkpoint {
		t.Errorf("saved checkpoint %d, %v; want %d", cp, err, all[len(all)-1].Checkpoint)
	}
}

// TestCrashes: the relay is killed at random points (mid-produce or not)
// and started again with a new client, resuming from its checkpoint file:
// every commit arrives, and per partition the first copies are in
// checkpoint order (copies are allowed: Kafka cannot drop them).
func TestCrashes(t *testing.T) {
	c := cluster(t)
	s := relaytest.Store(t)
	wait := relaytest.Writer(t, s, 300)
	file := &relay.File{Path: filepath.Join(t.TempDir(), "checkpoint")}
	var all []*eventstore.Commit
	for round := 0; ; round++ {
		o := relaytest.Fast()
		o.Checkpoints, o.SaveEvery = file, 2*time.Millisecond
		r, err := relay.New(s, kafka.New(client(t, c)), o)
		if err != nil {
			t.Fatal(err)
		}
		stop := relaytest.Run(t, r)
		time.Sleep(time.Duration(10_000+randN(20_000)) * time.Microsecond)
		if all != nil {
			relaytest.WaitFor(t, "every commit relayed", func() bool { return r.Position() == all[len(all)-1].Checkpoint })
			stop()
			break
		}
		stop()
		if round >= 12 {
			all = wait()
		}
	}
	got := consume(t, c, len(all))
	copies := relaytest.CheckAtLeastOnceInOrder(t, got, all)
	t.Logf("%d commits, %d records, %d copies", len(all), len(got), copies)
}

// refuse makes the cluster answer every produce request with a
// non-retriable error (the broker refuses the records) until the returned
// function is called; it counts the refused requests.
func refuse(c *kfake.Cluster, refused *atomic.Int64) (allow func()) {
	var on atomic.Bool
	on.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !on.Load() {
			return nil, nil, false
		}
		refused.Add(1)
		req := kr.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.PolicyViolation.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	return func() { on.Store(false) }
}

// TestRefusedNeverSkipped: while the broker refuses records, the relay
// does not advance past the first refused commit (it retries); once the
// broker accepts them, everything arrives, in order per partition.
func TestRefusedNeverSkipped(t *testing.T) {
	c := cluster(t)
	s := relaytest.Store(t)
	first := relaytest.Commit(t, s, "a", "s", relaytest.OrderPlaced{Order: "first"})
	o := relaytest.Fast()
	o.Checkpoints = &relay.File{Path: filepath.Join(t.TempDir(), "checkpoint")}
	r, _ := relay.New(s, kafka.New(client(t, c)), o)
	stop := relaytest.Run(t, r)
	relaytest.WaitFor(t, "the first commit", func() bool { return r.Position() == first.Checkpoint })
	var refused atomic.Int64
	allow := refuse(c, &refused)
	all := append([]*eventstore.Commit{first}, relaytest.Writer(t, s, 40)()...)
	relaytest.WaitFor(t, "refusals", func() bool { return refused.Load() >= 5 })
	if p := r.Position(); p != first.Checkpoint {
		t.Fatalf("Position = %d while the broker refuses every record, want %d", p, first.Checkpoint)
	}
	allow()
	relaytest.WaitFor(t, "every commit relayed", func() bool { return r.Position() == all[len(all)-1].Checkpoint })
	stop()
	relaytest.CheckAtLeastOnceInOrder(t, consume(t, c, len(all)), all)
}

// TestConnectionsDropped: the broker drops the connection on produce
// requests at random (as a broker that goes away): kgo retries, the relay
// waits, nothing is lost, order per partition holds.
func TestConnectionsDropped(t *testing.T) {
	c := cluster(t)
	var dropped atomic.Int64
	var mu sync.Mutex
	n := 0
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		mu.Lock()
		defer mu.Unlock()
		n++
		if n%3 == 0 {
			dropped.Add(1)
			return nil, errors.New("connection dropped (injected)"), true
		}
		return nil, nil, false
	})
	s := relaytest.Store(t)
	wait := relaytest.Writer(t, s, 150)
	o := relaytest.Fast()
	o.Checkpoints = &relay.File{Path: filepath.Join(t.TempDir(), "checkpoint")}
	r, _ := relay.New(s, kafka.New(client(t, c)), o)
	stop := relaytest.Run(t, r)
	all := wait()
	relaytest.WaitFor(t, "every commit relayed", func() bool { return r.Position() == all[len(all)-1].Checkpoint })
	stop()
	if dropped.Load() == 0 {
		t.Fatal("no connection was dropped")
	}
	relaytest.CheckAtLeastOnceInOrder(t, consume(t, c, len(all)), all)
}

// TestTwoRelays: two relays of the same name, started by mistake, keep
// their checkpoint in the store (relay.StoreCheckpoints): the first save
// of one of them fails, it stops with ErrLeaseLost; the other relays
// everything; nothing is lost and per-partition order of first copies holds.
func TestTwoRelays(t *testing.T) {
	c := cluster(t)
	s := relaytest.Store(t)
	wait := relaytest.Writer(t, s, 200)
	var relays []*relay.Relay
	errs := make(chan error, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 2 {
		o := relaytest.Fast()
		o.Checkpoints, o.SaveEvery = relay.StoreCheckpoints(s, "kafka"), 5*time.Millisecond
		r, err := relay.New(s, kafka.New(client(t, c)), o)
		if err != nil {
			t.Fatal(err)
		}
		relays = append(relays, r)
		go func() { errs <- r.Run(ctx) }()
	}
	var lost error
	select {
	case lost = <-errs:
	case <-time.After(30 * time.Second):
		t.Fatal("both relays still run: neither lost the lease")
	}
	if !errors.Is(lost, relay.ErrLeaseLost) {
		t.Fatalf("a relay stopped with %v, want ErrLeaseLost", lost)
	}
	all := wait()
	relaytest.WaitFor(t, "the survivor relays every commit", func() bool {
		return relays[0].Position() >= all[len(all)-1].Checkpoint || relays[1].Position() >= all[len(all)-1].Checkpoint
	})
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("the survivor stopped with %v, want context.Canceled", err)
	}
	got := consume(t, c, len(all))
	copies := relaytest.CheckAtLeastOnceInOrder(t, got, all)
	t.Logf("%d commits, %d records, %d copies", len(all), len(got), copies)
	for _, r := range got {
		if r.Key == relay.CheckpointBucket+"/kafka" {
			t.Errorf("the relay published its own checkpoint commit %s", r.CommitID)
		}
	}
}

func randN(n int) int { return int(time.Now().UnixNano() % int64(n)) }
