package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
	"github.com/goeventstore/eventstore/relay"
	"github.com/goeventstore/eventstore/relay/internal/relaytest"
)

func sampleCommit() *eventstore.Commit {
	return &eventstore.Commit{CommitAttempt: eventstore.CommitAttempt{
		BucketID: "tenant 7", StreamID: "order-1", StreamRevision: 3, CommitSequence: 2,
		CommitID:    persistence.MustParseUUID("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
		CommitStamp: time.Date(2026, 12, 1, 10, 0, 0, 123456000, time.UTC),
		Headers:     map[string]any{"causation": "cmd-9"},
		Events: []eventstore.EventMessage{
			{Body: relaytest.OrderPlaced{Order: "order-1", Total: 5}},
			{Body: &relaytest.OrderPlaced{Order: "order-1", Total: 6}, Headers: map[string]any{"n": 2}},
		},
	}, Checkpoint: 42}
}

// TestEncode: the documented message shape.
func TestEncode(t *testing.T) {
	c := sampleCommit()
	m, err := relay.Encode(c, &relay.Options{Topic: relay.ByBucket("events"), CloudEvents: true, Source: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	id := "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	if m.ID != id || m.Key != "tenant 7/order-1" || m.Topic != "events.tenant_7" || m.Checkpoint != 42 {
		t.Errorf("ID %q Key %q Topic %q Checkpoint %d", m.ID, m.Key, m.Topic, m.Checkpoint)
	}
	want := map[string]string{
		relay.HeaderCommitID: id, relay.HeaderBucket: "tenant 7", relay.HeaderStream: "order-1",
		relay.HeaderCommitSequence: "2", relay.HeaderStreamRevision: "3", relay.HeaderCheckpoint: "42",
		relay.HeaderCommitStamp: "2026-12-01T10:00:00.123456Z", relay.HeaderEventTypes: "OrderPlaced,OrderPlaced",
		relay.HeaderContentType:   "application/json",
		relay.HeaderCESpecVersion: "1.0", relay.HeaderCEID: id, relay.HeaderCESource: "shop/tenant 7",
		relay.HeaderCEType: "eventstore.commit", relay.HeaderCESubject: "order-1", relay.HeaderCETime: "2026-12-01T10:00:00.123456Z",
	}
	for k, v := range want {
		if m.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, m.Headers[k], v)
		}
	}
	if len(m.Headers) != len(want) {
		t.Errorf("%d headers, want %d: %v", len(m.Headers), len(want), m.Headers)
	}
	wantBody := `{"bucket":"tenant 7","stream":"order-1","commitId":"` + id + `","commitSequence":2,"streamRevision":3,` +
		`"checkpoint":42,"commitStamp":"2026-12-01T10:00:00.123456Z","headers":{"causation":"cmd-9"},"events":[` +
		`{"type":"OrderPlaced","body":{"order":"order-1","total":5}},` +
		`{"type":"OrderPlaced","headers":{"n":2},"body":{"order":"order-1","total":6}}]}`
	if string(m.Body) != wantBody {
		t.Errorf("body\n%s\nwant\n%s", m.Body, wantBody)
	}
	var b relay.Body
	if err := json.Unmarshal(m.Body, &b); err != nil || !b.CommitStamp.Equal(c.CommitStamp) {
		t.Errorf("the body does not decode into relay.Body: %v", err)
	}
	plain, _ := relay.Encode(c, &relay.Options{})
	if plain.Topic != relay.DefaultTopic || plain.Headers[relay.HeaderCEID] != "" {
		t.Errorf("without options: topic %q, CloudEvents headers %v", plain.Topic, plain.Headers)
	}
}

// TestEncodeError: a body encoding/json refuses is an *EncodeError naming
// the commit.
func TestEncodeError(t *testing.T) {
	c := sampleCommit()
	c.Events[1].Body = map[string]any{"f": func() {}}
	_, err := relay.Encode(c, &relay.Options{})
	var ee *relay.EncodeError
	if !errors.As(err, &ee) || ee.Commit.Checkpoint != 42 || !strings.Contains(err.Error(), "event 1") {
		t.Fatalf("Encode = %v, want an *EncodeError for checkpoint 42, event 1", err)
	}
}

// TestEncodeEvents: per-event messages, and where a relay resumes after
// a commit published in part.
func TestEncodeEvents(t *testing.T) {
	c := sampleCommit()
	ms, err := relay.EncodeEvents(c, &relay.Options{CloudEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	id := c.CommitID.String()
	if len(ms) != 2 {
		t.Fatalf("%d messages, want 2", len(ms))
	}
	for i, m := range ms {
		n := strconv.Itoa(i + 1)
		h := m.Headers
		if m.ID != id+"/"+n || h[relay.HeaderCEID] != m.ID || h[relay.HeaderCommitID] != id || h[relay.HeaderEventIndex] != n ||
			h[relay.HeaderEventCount] != "2" || h[relay.HeaderStreamRevision] != strconv.Itoa(2+i) || h[relay.HeaderCheckpoint] != "42" ||
			h[relay.HeaderEventTypes] != "OrderPlaced" || m.Key != "tenant 7/order-1" {
			t.Errorf("message %d: ID %q headers %v", i, m.ID, h)
		}
		var b relay.Body
		if err := json.Unmarshal(m.Body, &b); err != nil || len(b.Events) != 1 || b.EventIndex != i+1 || b.EventCount != 2 || b.StreamRevision != 2+i {
			t.Errorf("message %d body %s", i, m.Body)
		}
	}
	get := func(h map[string]string) func(string) string { return func(k string) string { return h[k] } }
	if cp, err := relay.CheckpointOf(get(ms[0].Headers)); cp != 41 || err != nil {
		t.Errorf("CheckpointOf(first of two events) = %d, %v; want 41: the commit is published again", cp, err)
	}
	if cp, err := relay.CheckpointOf(get(ms[1].Headers)); cp != 42 || err != nil {
		t.Errorf("CheckpointOf(last event) = %d, %v; want 42", cp, err)
	}
	whole, _ := relay.Encode(c, &relay.Options{})
	if cp, err := relay.CheckpointOf(get(whole.Headers)); cp != 42 || err != nil {
		t.Errorf("CheckpointOf(a commit message) = %d, %v; want 42", cp, err)
	}
	if _, err := relay.CheckpointOf(get(map[string]string{})); err == nil {
		t.Error("CheckpointOf of a message without the header: no error")
	}
}

func TestByEventType(t *testing.T) {
	c := sampleCommit()
	if got := relay.ByEventType("ev", nil)(c); got != "ev.OrderPlaced" {
		t.Errorf("ByEventType = %q, want ev.OrderPlaced", got)
	}
	if got := relay.ByEventType("ev", func(any) string { return "a.b c" })(c); got != "ev.a_b_c" {
		t.Errorf("ByEventType with a name to sanitize = %q, want ev.a_b_c", got)
	}
}

func TestTypeName(t *testing.T) {
	for body, want := range map[any]string{
		relaytest.OrderPlaced{}: "OrderPlaced", "x": "string", 1.5: "number", true: "bool",
	} {
		if got := relay.TypeName(body); got != want {
			t.Errorf("TypeName(%T) = %q, want %q", body, got, want)
		}
	}
	if got := relay.TypeName(&relaytest.OrderPlaced{}); got != "OrderPlaced" {
		t.Errorf("TypeName(pointer) = %q", got)
	}
	if got := relay.TypeName(map[string]any{}); got != "object" {
		t.Errorf("TypeName(map) = %q", got)
	}
}

// TestFile: a missing file is 0; a saved checkpoint loads back; garbage is
// an error naming the file.
func TestFile(t *testing.T) {
	ctx := context.Background()
	f := &relay.File{Path: filepath.Join(t.TempDir(), "cp")}
	if cp, err := f.Load(ctx); cp != 0 || err != nil {
		t.Fatalf("Load of a missing file = %d, %v", cp, err)
	}
	for _, cp := range []int64{7, 1 << 60} {
		if err := f.Save(ctx, cp); err != nil {
			t.Fatal(err)
		}
		if got, err := f.Load(ctx); got != cp || err != nil {
			t.Fatalf("Load = %d, %v; want %d", got, err, cp)
		}
	}
	bad := &relay.File{Path: filepath.Join(t.TempDir(), "bad")}
	if err := (&relay.File{Path: bad.Path}).Save(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(bad.Path, "x\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Load(ctx); err == nil || !strings.Contains(err.Error(), bad.Path) {
		t.Errorf("Load of garbage = %v, want an error naming the file", err)
	}
}

// TestStoreCheckpointsLease: two holders of one name load the same
// position; the first save wins, the second gets ErrLeaseLost; a new
// holder loads the winner's checkpoint, int64 precision intact.
func TestStoreCheckpointsLease(t *testing.T) {
	ctx := context.Background()
	s := relaytest.Store(t)
	a, b := relay.StoreCheckpoints(s, "r"), relay.StoreCheckpoints(s, "r")
	for _, h := range []relay.Checkpoints{a, b} {
		if cp, err := h.Load(ctx); cp != 0 || err != nil {
			t.Fatalf("Load = %d, %v", cp, err)
		}
	}
	if err := a.Save(ctx, 1<<60+1); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, 1<<60+3); err != nil {
		t.Fatal(err)
	}
	if err := b.Save(ctx, 5); !errors.Is(err, relay.ErrLeaseLost) {
		t.Fatalf("the second holder's Save = %v, want ErrLeaseLost", err)
	}
	c := relay.StoreCheckpoints(s, "r")
	if cp, err := c.Load(ctx); cp != 1<<60+3 || err != nil {
		t.Fatalf("Load = %d, %v; want %d", cp, err, int64(1<<60+3))
	}
	if err := c.Save(ctx, 1<<60+4); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, 1<<60+9); !errors.Is(err, relay.ErrLeaseLost) {
		t.Fatalf("after a newer holder saved, the old one's Save = %v, want ErrLeaseLost", err)
	}
}

// TestNew: a publisher that cannot resume needs a checkpoint store; bad
// options are *ValidationErrors.
func TestNew(t *testing.T) {
	s := relaytest.Store(t)
	pub := relay.PublishFunc(func(ctx context.Context, msgs []relay.Message) (int, error) { return len(msgs), nil })
	var ve *eventstore.ValidationError
	if _, err := relay.New(s, pub, relay.Options{}); !errors.As(err, &ve) || ve.Field != "Checkpoints" {
		t.Errorf("New without Checkpoints = %v, want a *ValidationError naming Checkpoints", err)
	}
	if _, err := relay.New(s, pub, relay.Options{Checkpoints: &relay.File{Path: "x"}, SaveEvery: -1}); !errors.As(err, &ve) || ve.Field != "SaveEvery" {
		t.Errorf("New with SaveEvery -1 = %v", err)
	}
	o := relay.Options{Checkpoints: &relay.File{Path: "x"}}
	o.Read.PageSize = -3
	if _, err := relay.New(s, pub, o); !errors.As(err, &ve) || ve.Field != "PageSize" {
		t.Errorf("New with a bad page size = %v", err)
	}
	if _, err := relay.New(nil, pub, relay.Options{}); !errors.Is(err, eventstore.ErrInvalid) {
		t.Errorf("New(nil store) = %v", err)
	}
}

// Wave is an event gob stores but JSON cannot encode (a complex number).
type Wave struct{ Z complex128 }

// TestStopsOnEncodeError: a commit that cannot be encoded stops Run with
// an *EncodeError naming it; the commit before it is published and its
// checkpoint saved; the relay never skips the bad one.
func TestStopsOnEncodeError(t *testing.T) {
	e := memory.New()
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	types := eventstore.NewTypeRegistry()
	if err := types.Register("Wave", Wave{}); err != nil {
		t.Fatal(err)
	}
	s := eventstore.New(e, eventstore.Options{Serializer: eventstore.NewGobSerializer(types)})
	defer s.Close(context.Background())
	ctx := context.Background()
	good, err := s.Append(ctx, "s", eventstore.NoStream, eventstore.NewCommitID(), eventstore.EventMessage{Body: "fine"})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := s.Append(ctx, "s", good.Position(), eventstore.NewCommitID(), eventstore.EventMessage{Body: Wave{Z: 1i}})
	if err != nil {
		t.Fatal(err)
	}
	var published []int64
	pub := relay.PublishFunc(func(ctx context.Context, msgs []relay.Message) (int, error) {
		for _, m := range msgs {
			published = append(published, m.Checkpoint)
		}
		return len(msgs), nil
	})
	file := &relay.File{Path: filepath.Join(t.TempDir(), "cp")}
	o := relaytest.Fast()
	o.Checkpoints = file
	r, _ := relay.New(s, pub, o)
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = r.Run(rctx)
	var ee *relay.EncodeError
	if !errors.As(err, &ee) || ee.Commit.Checkpoint != bad.Checkpoint {
		t.Fatalf("Run = %v, want an *EncodeError for checkpoint %d", err, bad.Checkpoint)
	}
	if len(published) != 1 || published[0] != good.Checkpoint {
		t.Errorf("published %v, want only %d", published, good.Checkpoint)
	}
	if cp, _ := file.Load(ctx); cp != good.Checkpoint {
		t.Errorf("saved checkpoint %d, want %d", cp, good.Checkpoint)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
