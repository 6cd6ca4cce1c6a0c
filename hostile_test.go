package eventstore_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/goeventstore/eventstore"
)

type node struct {
	Name string
	Next *node
}

type treeNode struct {
	Name   string
	Parent *treeNode `json:"-"`
	Kids   []*treeNode
}

type panicky struct{ X int }

func (panicky) MarshalJSON() ([]byte, error) { panic("boom") }

// nested returns n maps, each holding the next under "x", the innermost
// holding a string.
func nested(n int) map[string]any {
	m := map[string]any{"x": "leaf"}
	for range n - 1 {
		m = map[string]any{"x": m}
	}
	return m
}

// refuse commits one event with body (and headers) through every
// serializer, on an engine keeping values and one keeping bytes, and wants
// a *ValidationError naming field, and nothing written.
func refuse(t *testing.T, field string, body any, headers map[string]any, commitHeaders map[string]any) {
	t.Helper()
	for name, with := range serializers(t) {
		for _, keep := range []bool{true, false} {
			w := eventstore.Wireup()
			if !keep {
				w = w.UsingPersistence(bytesOnly())
			}
			s := build(t, with(w))
			st, _ := s.CreateStream("s")
			for k, v := range commitHeaders {
				st.SetHeader(k, v)
			}
			if err := st.Add(eventstore.EventMessage{Body: body, Headers: headers}); err != nil {
				t.Fatalf("%s: Add: %v", name, err)
			}
			_, err := st.CommitChanges(context.Background(), eventstore.NewCommitID())
			var ve *eventstore.ValidationError
			if !errors.Is(err, eventstore.ErrInvalid) || !errors.As(err, &ve) || !strings.HasPrefix(ve.Field, field) {
				t.Fatalf("%s (keep values %v): got %v, want a validation error on %s", name, keep, err, field)
			}
			if len(st.UncommittedEvents()) != 1 || st.StreamRevision() != 0 {
				t.Fatalf("%s: stream changed: %d uncommitted, revision %d", name, len(st.UncommittedEvents()), st.StreamRevision())
			}
			for c, err := range s.Commits(context.Background(), 0) {
				t.Fatalf("%s: something was written: %v %v", name, c, err)
			}
		}
	}
}

func TestCyclicBodyIsRefused(t *testing.T) {
	m := map[string]any{"a": 1.0}
	m["self"] = m
	refuse(t, `Events[0].Body["self"]`, m, nil, nil)

	l := []any{"x", nil}
	l[1] = map[string]any{"back": l}
	refuse(t, `Events[0].Body[1]["back"]`, l, nil, nil)

	n := &node{Name: "a"}
	n.Next = &node{Name: "b", Next: n}
	refuse(t, "Events[0].Body.Next.Next", n, nil, nil)

	// A wide cycle: found at once, not after walking 2^depth paths.
	w := map[string]any{}
	w["a"], w["b"], w["c"] = w, w, w
	refuse(t, "Events[0].Body", w, nil, nil)
}

func TestCyclicHeadersAreRefused(t *testing.T) {
	m := map[string]any{}
	m["m"] = m
	refuse(t, `Headers["h"]["m"]`, "body", nil, map[string]any{"h": m})
	refuse(t, `Events[0].Headers["h"]["m"]`, "body", map[string]any{"h": m}, nil)
}

func TestNestingLimit(t *testing.T) {
	refuse(t, "Events[0].Body", nested(eventstore.MaxNesting+1), nil, nil)
	// At the limit: stored and read back unchanged, on every serializer.
	for name, with := range serializers(t) {
		s := build(t, with(eventstore.Wireup().UsingPersistence(bytesOnly())))
		st, _ := s.CreateStream("s")
		body := nested(eventstore.MaxNesting)
		commit(t, st, body)
		got, err := s.OpenStream(context.Background(), "s", 0, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got.CommittedEvents()[0].Body, body) {
			t.Fatalf("%s: read back something else", name)
		}
	}
}

func TestInvalidUTF8IsRefused(t *testing.T) {
	refuse(t, "Events[0].Body", "ok\xffok", nil, nil)
	refuse(t, `Events[0].Body["k"]`, map[string]any{"k": "\xc3"}, nil, nil)
	refuse(t, "Events[0].Body", map[string]any{"\xfe": 1.0}, nil, nil)
	refuse(t, "Events[0].Body.Name", &node{Name: "\xed\xa0\x80"}, nil, nil) // an encoded surrogate
	refuse(t, `Headers["user"]`, "body", nil, map[string]any{"user": "ann\xff"})
	refuse(t, `Events[0].Headers["k"][0]`, "body", map[string]any{"k": []any{"\x80"}}, nil)
}

// Strings that are valid UTF-8 but that encoders like to escape come back
// byte for byte.
func TestOddStringsComeBackUnchanged(t *testing.T) {
	odd := []string{"\u2028\u2029", "<a>&amp;", "\x00\x01\x1f", "\uFFFD", "\U0001F600", `"\`, "é", strings.Repeat("z", 100000)}
	for name, with := range serializers(t) {
		for _, keep := range []bool{true, false} {
			w := eventstore.Wireup()
			if !keep {
				w = w.UsingPersistence(bytesOnly())
			}
			s := build(t, with(w))
			st, _ := s.CreateStream("s")
			for _, o := range odd {
				st.SetHeader(o, o)
				st.Add(eventstore.EventMessage{Body: o, Headers: map[string]any{o: o}})
			}
			if _, err := st.CommitChanges(context.Background(), eventstore.NewCommitID()); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := s.OpenStream(context.Background(), "s", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range got.CommittedEvents() {
				if e.Body != odd[i] || e.Headers[odd[i]] != odd[i] || got.CommittedHeaders()[odd[i]] != odd[i] {
					t.Fatalf("%s (keep %v): %q came back as %q", name, keep, odd[i], e.Body)
				}
			}
		}
	}
}

func TestTypedNilBodyIsRefused(t *testing.T) {
	s := build(t, eventstore.Wireup())
	st, _ := s.CreateStream("s")
	for _, body := range []any{nil, (*OrderShipped)(nil), map[string]any(nil), []any(nil), (*node)(nil)} {
		err := st.Add(eventstore.EventMessage{Body: body})
		var ve *eventstore.ValidationError
		if !errors.Is(err, eventstore.ErrInvalid) || !errors.As(err, &ve) || ve.Field != "EventMessage.Body" {
			t.Fatalf("%T: got %v", body, err)
		}
	}
	if len(st.UncommittedEvents()) != 0 {
		t.Fatal("added")
	}
	// A serializer used directly refuses it too.
	for name, ser := range map[string]eventstore.Serializer{
		"json": eventstore.NewJSONSerializer(nil), "gob": eventstore.NewGobSerializer(nil),
		"gzip": eventstore.Compress(eventstore.NewJSONSerializer(nil)),
	} {
		_, err := ser.MarshalCommit(nil, []eventstore.EventMessage{{Body: "x"}, {Body: (*OrderShipped)(nil)}})
		var ve *eventstore.ValidationError
		if !errors.As(err, &ve) || ve.Field != "Events[1].Body" {
			t.Fatalf("%s: got %v", name, err)
		}
		if _, err := ser.MarshalSnapshot(map[string]any(nil)); !errors.Is(err, eventstore.ErrInvalid) {
			t.Fatalf("%s snapshot: got %v", name, err)
		}
	}
	// And so does AddSnapshot.
	commit(t, st, "x")
	if err := s.AddSnapshot(context.Background(), st.Snapshot((*OrderShipped)(nil))); !errors.Is(err, eventstore.ErrInvalid) {
		t.Fatalf("typed nil snapshot: got %v", err)
	}
}

func TestCyclicSnapshotIsRefused(t *testing.T) {
	for name, with := range serializers(t) {
		s := build(t, with(eventstore.Wireup()))
		st, _ := s.CreateStream("s")
		commit(t, st, "x")
		m := map[string]any{}
		m["m"] = []any{m}
		err := s.AddSnapshot(context.Background(), st.Snapshot(m))
		var ve *eventstore.ValidationError
		if !errors.As(err, &ve) || ve.Field != `Snapshot.Payload["m"][0]` {
			t.Fatalf("%s: got %v", name, err)
		}
		if _, err := s.LatestSnapshot(context.Background(), "s", 0); !errors.Is(err, eventstore.ErrSnapshotNotFound) {
			t.Fatalf("%s: a snapshot was stored: %v", name, err)
		}
	}
}

// A json:"-" back pointer is no cycle for JSON, and a body's own
// MarshalJSON that panics is an error, not a crash.
func TestJSONSpecifics(t *testing.T) {
	s := build(t, eventstore.Wireup().UsingPersistence(bytesOnly()))
	root := &treeNode{Name: "root"}
	root.Kids = []*treeNode{{Name: "kid", Parent: root}}
	st, _ := s.CreateStream("s")
	commit(t, st, root)

	st.Add(eventstore.EventMessage{Body: panicky{1}})
	_, err := st.CommitChanges(context.Background(), eventstore.NewCommitID())
	if !errors.Is(err, eventstore.ErrInvalid) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panicking MarshalJSON: got %v", err)
	}
}
