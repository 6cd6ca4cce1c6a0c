package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
)

// storeRaw stores payload as the next commit of a stream, bypassing the
// serializer.
func storeRaw(t *testing.T, e *persistence.Engine, streamID string, seq, events int, payload []byte) persistence.Commit {
	t.Helper()
	pc, err := e.Commit(context.Background(), &persistence.CommitAttempt{
		BucketID: eventstore.DefaultBucket, StreamID: streamID, StreamRevision: seq * events,
		CommitID: eventstore.NewCommitID(), CommitSequence: seq,
		CommitStamp: time.Now().UTC().Truncate(time.Microsecond), EventCount: events, Payload: payload,
	})
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

func wantCorrupt(t *testing.T, err error, pc persistence.Commit) *eventstore.CorruptCommitError {
	t.Helper()
	var ce *eventstore.CorruptCommitError
	if !errors.Is(err, eventstore.ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *CorruptCommitError", err)
	}
	if ce.BucketID != pc.BucketID || ce.StreamID != pc.StreamID || ce.CommitID != pc.CommitID ||
		ce.Checkpoint != pc.Checkpoint || ce.CommitSequence != pc.CommitSequence || ce.StreamRevision != pc.StreamRevision {
		t.Fatalf("coordinates %+v, want those of %+v", ce, pc.CommitAttempt)
	}
	msg := err.Error()
	for _, part := range []string{pc.BucketID, pc.StreamID, pc.CommitID.String(), fmt.Sprintf("checkpoint %d", pc.Checkpoint)} {
		if !strings.Contains(msg, part) {
			t.Fatalf("%q does not name %q", msg, part)
		}
	}
	// Like every error on a stream, it is a *StreamError too.
	var se *eventstore.StreamError
	if !errors.As(err, &se) || se.StreamID != pc.StreamID || se.CommitID != pc.CommitID {
		t.Fatalf("as a StreamError: %+v", se)
	}
	return ce
}

// readAll reads Commits from after to the end, going on past corrupt
// commits as the package documentation says, and returns the bodies read
// and the corrupt commits met.
func readAll(t *testing.T, s *eventstore.Store, after int64) (bodies []any, corrupt []*eventstore.CorruptCommitError) {
	t.Helper()
	for {
		var ce *eventstore.CorruptCommitError
		for c, err := range s.Commits(context.Background(), after) {
			if errors.As(err, &ce) {
				corrupt = append(corrupt, ce)
				after = ce.Checkpoint
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range c.Events {
				bodies = append(bodies, e.Body)
			}
			after = c.Checkpoint
		}
		if ce == nil {
			return bodies, corrupt
		}
	}
}

func TestPoisonCommits(t *testing.T) {
	payloads := map[string][]byte{
		"garbage":         []byte("\x00\xffnot a payload"),
		"json null":       []byte("null"),
		"wrong shape":     []byte(`[1,2,3]`),
		"no events":       []byte(`{"events":[]}`),
		"too many events": []byte(`{"events":[{"body":1},{"body":2}]}`),
		"events not list": []byte(`{"events":{"body":1}}`),
		"truncated":       []byte(`{"events":[{"body":`),
		"unknown type":    []byte(`{"events":[{"type":"OrderPlaced","body":"not an object"}]}`),
		"no body":         []byte(`{"events":[{"headers":{"a":1}}]}`),
	}
	for name, payload := range payloads {
		t.Run(name, func(t *testing.T) {
			for _, ser := range []string{"json", "gob"} {
				e := bytesOnly()
				w := eventstore.Wireup().UsingPersistence(e).RegisterType("OrderPlaced", OrderPlaced{})
				if ser == "gob" {
					w = w.UsingGobSerialization()
				}
				s := build(t, w)
				ok1, _ := s.CreateStream("before")
				commit(t, ok1, "one")
				poison := storeRaw(t, e, "poison", 1, 1, payload)
				ok2, _ := s.CreateStream("after")
				commit(t, ok2, "two")

				// The iterator yields it, then ends.
				var got []any
				var err error
				for c, e := range s.Commits(context.Background(), 0) {
					if e != nil {
						err = e
						continue // must not be called again
					}
					got = append(got, c.Events[0].Body)
				}
				ce := wantCorrupt(t, err, poison)
				if fmt.Sprint(got) != "[one]" {
					t.Fatalf("%s: read %v before the error", ser, got)
				}
				// Read on from its checkpoint: past it.
				bodies, corrupt := readAll(t, s, 0)
				if fmt.Sprint(bodies) != "[one two]" || len(corrupt) != 1 || corrupt[0].CommitID != poison.CommitID {
					t.Fatalf("%s: read on: %v, corrupt %v", ser, bodies, corrupt)
				}
				if !strings.Contains(ce.Error(), "decoding commit payload") {
					t.Fatalf("cause not named: %v", ce)
				}
				_, err = s.OpenStream(context.Background(), "poison", 0, 0)
				wantCorrupt(t, err, poison)
				if _, err := s.OpenStream(context.Background(), "after", 0, 0); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// An encrypted commit read by a store without the key, or with another
// one, is a poison commit for that store.
func TestEncryptedCommitWithoutTheKey(t *testing.T) {
	e := bytesOnly()
	key := bytes.Repeat([]byte{3}, 32)
	writer := build(t, eventstore.Wireup().UsingPersistence(e).EncryptWith(key))
	st, _ := writer.CreateStream("secret")
	c := commit(t, st, "classified")
	stored := persistence.Commit{CommitAttempt: persistence.CommitAttempt{BucketID: c.BucketID, StreamID: c.StreamID,
		StreamRevision: c.StreamRevision, CommitID: c.CommitID, CommitSequence: c.CommitSequence}, Checkpoint: c.Checkpoint}
	for name, w := range map[string]*eventstore.Builder{
		"plain":     eventstore.Wireup().UsingPersistence(e),
		"gob":       eventstore.Wireup().UsingPersistence(e).UsingGobSerialization(),
		"other key": eventstore.Wireup().UsingPersistence(e).EncryptWith(bytes.Repeat([]byte{4}, 32)),
	} {
		reader := build(t, w)
		var err error
		for _, e := range reader.Commits(context.Background(), 0) {
			err = e
		}
		wantCorrupt(t, err, stored)
		if name == "other key" && !errors.Is(err, eventstore.ErrDecrypt) {
			t.Fatalf("wrong key: %v does not match ErrDecrypt", err)
		}
		if bodies, corrupt := readAll(t, reader, 0); len(bodies) != 0 || len(corrupt) != 1 {
			t.Fatalf("%s: %v %v", name, bodies, corrupt)
		}
	}
}

// Build, dispatching what an earlier run left undispatched, does not fail
// on a poison commit: it dispatches the rest and leaves it undispatched.
func TestRedispatchSkipsPoisonCommits(t *testing.T) {
	e := bytesOnly()
	s := build(t, eventstore.Wireup().UsingPersistence(e))
	st, _ := s.CreateStream("good")
	commit(t, st, "one") // not dispatched: this store has no dispatcher
	poison := storeRaw(t, e, "poison", 1, 1, []byte("garbage"))

	var mu sync.Mutex
	var got []string
	s2 := build(t, eventstore.Wireup().UsingPersistence(e).UsingSyncDispatch().DispatchTo(func(_ context.Context, c eventstore.Commit) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c.StreamID)
		return nil
	}))
	if _, err := s2.Redispatch(context.Background()); err != nil { // waits for Build's
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != "[good]" {
		t.Fatalf("dispatched %v", got)
	}
	var left []eventstore.UUID
	for pc, err := range e.Undispatched(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, pc.CommitID)
	}
	if len(left) != 1 || left[0] != poison.CommitID {
		t.Fatalf("left undispatched: %v", left)
	}
}

func TestCorruptSnapshot(t *testing.T) {
	e := bytesOnly()
	s := build(t, eventstore.Wireup().UsingPersistence(e))
	st, _ := s.CreateStream("s")
	commit(t, st, "x")
	if err := e.AddSnapshot(context.Background(), persistence.Snapshot{BucketID: eventstore.DefaultBucket, StreamID: "s", StreamRevision: 1, Payload: []byte("{garbage")}); err != nil {
		t.Fatal(err)
	}
	_, err := s.LatestSnapshot(context.Background(), "s", 0)
	var se *eventstore.StreamError
	if !errors.Is(err, eventstore.ErrCorrupt) || !errors.As(err, &se) || se.StreamID != "s" || se.Revision != 1 {
		t.Fatalf("got %v", err)
	}
}
