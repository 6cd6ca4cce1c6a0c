package eventstore_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
)

// wholeOnly is a serializer without UnmarshalHeaders: DecodeHeaders then
// decodes the whole payload.
type wholeOnly struct{ eventstore.Serializer }

// TestDecodeHeaders reads a commit's headers without its events, with each
// serializer of the package (and one without UnmarshalHeaders), and wants
// the headers UnmarshalCommit gives; a broken payload and a closed store
// give their errors.
func TestDecodeHeaders(t *testing.T) {
	key := make([]byte, 32)
	types := eventstore.NewTypeRegistry()
	if err := types.Register("BenchEvent", benchEvent{}); err != nil {
		t.Fatal(err)
	}
	encrypted, err := eventstore.EncryptWith(eventstore.NewGobSerializer(types), key)
	if err != nil {
		t.Fatal(err)
	}
	sers := map[string]eventstore.Serializer{
		"json":         eventstore.NewJSONSerializer(types),
		"gob":          eventstore.NewGobSerializer(types),
		"gzip json":    eventstore.Compress(eventstore.NewJSONSerializer(types)),
		"gob, sealed":  encrypted,
		"without":      wholeOnly{eventstore.NewJSONSerializer(types)},
		"gzip without": eventstore.Compress(wholeOnly{eventstore.NewJSONSerializer(types)}),
	}
	headers := map[string]any{"correlation": "c-1", "tenant": "acme"}
	events := []eventstore.EventMessage{{Body: newBenchEvent(1), Headers: map[string]any{"n": "1"}}, {Body: newBenchEvent(2)}}
	ctx := context.Background()
	for name, ser := range sers {
		t.Run(name, func(t *testing.T) {
			s, err := eventstore.Wireup().UsingSerializer(ser).Build(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			payload, err := ser.MarshalCommit(headers, events)
			if err != nil {
				t.Fatal(err)
			}
			pc := persistence.Commit{CommitAttempt: persistence.CommitAttempt{BucketID: eventstore.DefaultBucket, StreamID: "s",
				StreamRevision: 2, CommitID: persistence.NewUUID(), CommitSequence: 1, CommitStamp: time.Now(), EventCount: 2,
				Payload: payload}, Checkpoint: 7}
			got, err := s.DecodeHeaders(pc)
			if err != nil || !reflect.DeepEqual(got, headers) {
				t.Fatalf("DecodeHeaders = %v, %v; want %v", got, err, headers)
			}
			if _, ok := ser.(eventstore.HeadersUnmarshaler); !ok && name != "without" {
				t.Fatalf("%s does not implement HeadersUnmarshaler", name)
			}

			pc.Payload = pc.Payload[:len(pc.Payload)/2]
			var ce *eventstore.CorruptCommitError
			if _, err := s.DecodeHeaders(pc); !errors.As(err, &ce) || ce.Checkpoint != 7 || !errors.Is(err, eventstore.ErrCorrupt) {
				t.Fatalf("DecodeHeaders of half a payload: %v, want a CorruptCommitError for checkpoint 7", err)
			}
			s.Close(ctx)
			if _, err := s.DecodeHeaders(pc); !errors.Is(err, eventstore.ErrClosed) {
				t.Fatalf("DecodeHeaders on a closed store: %v, want ErrClosed", err)
			}
		})
	}
}

// TestDecodeHeadersSkipsEvents: with the JSON serializer the events are
// skipped, not decoded, so a body of the wrong shape for its registered
// type still gives the headers, while Decode refuses the commit.
func TestDecodeHeadersSkipsEvents(t *testing.T) {
	ctx := context.Background()
	s, err := eventstore.Wireup().RegisterType("BenchEvent", benchEvent{}).Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	pc := persistence.Commit{CommitAttempt: persistence.CommitAttempt{BucketID: eventstore.DefaultBucket, StreamID: "s",
		StreamRevision: 1, CommitID: persistence.NewUUID(), CommitSequence: 1, CommitStamp: time.Now(), EventCount: 1,
		Payload: []byte(`{"headers":{"tenant":"acme"},"events":[{"type":"BenchEvent","body":{"amount":"not a number"}}]}`)}, Checkpoint: 3}
	if h, err := s.DecodeHeaders(pc); err != nil || h["tenant"] != "acme" {
		t.Fatalf("DecodeHeaders = %v, %v", h, err)
	}
	if _, _, err := s.Decode(ctx, pc); !errors.Is(err, eventstore.ErrCorrupt) {
		t.Fatalf("Decode = %v, want ErrCorrupt", err)
	}
}
