package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/goeventstore/eventstore"
)

func serializers(t *testing.T) map[string]func(*eventstore.Builder) *eventstore.Builder {
	key := bytes.Repeat([]byte{7}, 32)
	return map[string]func(*eventstore.Builder) *eventstore.Builder{
		"json":      func(w *eventstore.Builder) *eventstore.Builder { return w.UsingJSONSerialization() },
		"gob":       func(w *eventstore.Builder) *eventstore.Builder { return w.UsingGobSerialization() },
		"json+gzip": func(w *eventstore.Builder) *eventstore.Builder { return w.Compress() },
		"json+aes":  func(w *eventstore.Builder) *eventstore.Builder { return w.EncryptWith(key) },
		"gob+gzip+aes": func(w *eventstore.Builder) *eventstore.Builder {
			return w.UsingGobSerialization().Compress().EncryptWith(key)
		},
		"json+gzip+aes-128": func(w *eventstore.Builder) *eventstore.Builder { return w.Compress().EncryptWith(key[:16]) },
	}
}

func TestSerializersRoundTrip(t *testing.T) {
	for name, with := range serializers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			// bytesOnly: read through the serializer, not the in-process copy.
			w := eventstore.Wireup().UsingPersistence(bytesOnly()).
				RegisterType("OrderPlaced", OrderPlaced{}).
				RegisterType("OrderShipped", &OrderShipped{})
			s := build(t, with(w))
			st, _ := s.CreateStream("s")
			st.SetHeader("user", "ann")
			st.Add(eventstore.EventMessage{Body: OrderPlaced{"o1", 12.5}, Headers: map[string]any{"seq": "1"}})
			st.Add(eventstore.EventMessage{Body: &OrderShipped{"o1", "ups"}})
			st.Add(eventstore.EventMessage{Body: "plain"})
			if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
				t.Fatal(err)
			}
			if err := s.AddSnapshot(ctx, st.Snapshot(OrderPlaced{"state", 1})); err != nil {
				t.Fatal(err)
			}
			got, err := s.OpenStream(ctx, "s", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := []eventstore.EventMessage{
				{Body: OrderPlaced{"o1", 12.5}, Headers: map[string]any{"seq": "1"}},
				{Body: &OrderShipped{"o1", "ups"}},
				{Body: "plain"},
			}
			if ev := got.CommittedEvents(); !reflect.DeepEqual(ev, want) {
				t.Fatalf("read %#v", ev)
			}
			if got.CommittedHeaders()["user"] != "ann" {
				t.Fatalf("headers %v", got.CommittedHeaders())
			}
			snap, err := s.LatestSnapshot(ctx, "s", 0)
			if err != nil {
				t.Fatal(err)
			}
			if snap.Payload != (OrderPlaced{"state", 1}) || snap.StreamRevision != 3 {
				t.Fatalf("snapshot %#v", snap)
			}
		})
	}
}

func TestWrongKeyIsAClearError(t *testing.T) {
	ctx := context.Background()
	engine := bytesOnly()
	s1 := build(t, eventstore.Wireup().UsingPersistence(engine).EncryptWith(bytes.Repeat([]byte{1}, 32)))
	st, _ := s1.CreateStream("secret")
	commit(t, st, "classified")
	if err := s1.AddSnapshot(ctx, st.Snapshot("state")); err != nil {
		t.Fatal(err)
	}
	// A second store over the same engine, with another key.
	s2 := eventstore.New(engine, eventstore.Options{Serializer: must(eventstore.EncryptWith(eventstore.NewJSONSerializer(nil), bytes.Repeat([]byte{2}, 32)))})
	_, err := s2.OpenStream(ctx, "secret", 0, 0)
	var se *eventstore.StreamError
	if !errors.Is(err, eventstore.ErrDecrypt) || !errors.As(err, &se) || se.StreamID != "secret" || se.Revision != 1 {
		t.Fatalf("wrong key: got %v", err)
	}
	if _, err := s2.LatestSnapshot(ctx, "secret", 0); !errors.Is(err, eventstore.ErrDecrypt) {
		t.Fatalf("wrong key, snapshot: got %v", err)
	}
	// Without encryption at all: also an error, not garbage.
	s3 := eventstore.New(engine, eventstore.Options{})
	if _, err := s3.OpenStream(ctx, "secret", 0, 0); err == nil {
		t.Fatal("reading encrypted data as JSON succeeded")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestEncryptWithBadKey(t *testing.T) {
	if _, err := eventstore.EncryptWith(eventstore.NewJSONSerializer(nil), []byte("short")); !errors.Is(err, eventstore.ErrInvalid) {
		t.Fatalf("got %v", err)
	}
}

func TestGobUnregisteredBody(t *testing.T) {
	s := build(t, eventstore.Wireup().UsingGobSerialization())
	st, _ := s.CreateStream("s")
	st.Add(eventstore.EventMessage{Body: struct{ X int }{1}})
	_, err := st.CommitChanges(context.Background(), eventstore.NewCommitID())
	if !errors.Is(err, eventstore.ErrInvalid) {
		t.Fatalf("got %v", err)
	}
}

func TestTypeRegistry(t *testing.T) {
	r := eventstore.NewTypeRegistry()
	if err := r.Register("A", OrderPlaced{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("A", OrderPlaced{}); err != nil {
		t.Fatalf("same registration twice: %v", err)
	}
	for _, err := range []error{
		r.Register("A", OrderShipped{}),
		r.Register("B", OrderPlaced{}),
		r.Register("", OrderShipped{}),
		r.Register("C", nil),
	} {
		if !errors.Is(err, eventstore.ErrInvalid) {
			t.Errorf("got %v, want a validation error", err)
		}
	}
}

// The in-process copy handed to the memory engine must read back exactly as
// decoding would: here, an int header is not JSON-native, so the store must
// not hand it over, and both paths give float64.
func TestDecodedMatchesSerializer(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup().RegisterType("OrderPlaced", OrderPlaced{}))
	st, _ := s.CreateStream("s")
	st.SetHeader("count", 3)
	st.Add(eventstore.EventMessage{Body: OrderPlaced{"o", 1}, Headers: map[string]any{"n": int64(2)}})
	st.Add(eventstore.EventMessage{Body: struct{ A int }{1}})
	if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
		t.Fatal(err)
	}
	got, _ := s.OpenStream(ctx, "s", 0, 0)
	if got.CommittedHeaders()["count"] != 3.0 || got.CommittedEvents()[0].Headers["n"] != 2.0 {
		t.Fatalf("headers %v %v", got.CommittedHeaders(), got.CommittedEvents()[0].Headers)
	}
	if !reflect.DeepEqual(got.CommittedEvents()[1].Body, map[string]any{"A": 1.0}) {
		t.Fatalf("body %#v", got.CommittedEvents()[1].Body)
	}
}
