package natsjs_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// broker is an embedded NATS server with JetStream on a file store in a
// temporary directory, on a fixed loopback port so that it can be shut
// down and started again on the same data.
type broker struct {
	t    testing.TB
	dir  string
	port int
	srv  *server.Server
	n    int
}

func newBroker(t testing.TB) *broker {
	t.Helper()
	b := &broker{t: t, dir: t.TempDir(), port: -1}
	b.start()
	b.port = b.srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(b.stop)
	return b
}

func (b *broker) start() {
	b.t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: b.port, JetStream: true, StoreDir: b.dir, NoLog: true, NoSigs: true,
	})
	if err != nil {
		b.t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		b.t.Fatal("the embedded NATS server did not start")
	}
	b.srv = srv
}

func (b *broker) stop() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
		b.srv = nil
	}
}

// connect returns a JetStream context on a connection that reconnects
// forever, closed when the test ends.
func (b *broker) connect() (*nats.Conn, jetstream.JetStream) {
	b.t.Helper()
	nc, err := nats.Connect(b.srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		b.t.Fatal(err)
	}
	return nc, js
}

// stream creates the stream EVENTS on subjects eventstore.>.
func (b *broker) stream(js jetstream.JetStream, cfg jetstream.StreamConfig) jetstream.Stream {
	b.t.Helper()
	if cfg.Name == "" {
		cfg.Name = "EVENTS"
	}
	if cfg.Subjects == nil {
		cfg.Subjects = []string{"eventstore.>"}
	}
	// cfg.Storage: FileStorage unless set (its zero value)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// freshStream creates a stream of its own (on subjects of its own) and
// returns its name.
func (b *broker) freshStream(js jetstream.JetStream, storage jetstream.StorageType) string {
	b.t.Helper()
	if b.n > 0 { // subjects may not overlap: drop the previous one
		if err := js.DeleteStream(context.Background(), fmt.Sprintf("EVENTS%d", b.n)); err != nil {
			b.t.Fatal(err)
		}
	}
	b.n++
	name := fmt.Sprintf("EVENTS%d", b.n)
	b.stream(js, jetstream.StreamConfig{Name: name, Subjects: []string{"eventstore.>"}, Storage: storage})
	return name
}
