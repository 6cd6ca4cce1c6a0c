package persistence

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestUUIDRoundTrip(t *testing.T) {
	seen := map[UUID]bool{}
	for range 1000 {
		u := NewUUID()
		if u.IsZero() || seen[u] {
			t.Fatalf("NewUUID returned zero or repeated %s", u)
		}
		seen[u] = true
		if v := u[6] >> 4; v != 7 {
			t.Fatalf("%s: version %d, want 7", u, v)
		}
		if u[8]&0xc0 != 0x80 {
			t.Fatalf("%s: variant bits %02x, want 10xxxxxx", u, u[8])
		}
		p, err := ParseUUID(u.String())
		if err != nil || p != u {
			t.Fatalf("ParseUUID(%s) = %s, %v", u, p, err)
		}
		p, err = ParseUUID(strings.ReplaceAll(strings.ToUpper(u.String()), "-", ""))
		if err != nil || p != u {
			t.Fatalf("ParseUUID(32 upper-case digits of %s) = %s, %v", u, p, err)
		}
	}
}

func TestUUIDOrderFollowsTime(t *testing.T) {
	a := NewUUID()
	time.Sleep(2 * time.Millisecond)
	b := NewUUID()
	if a.String() >= b.String() {
		t.Fatalf("later UUID %s does not sort after %s", b, a)
	}
}

func TestParseUUIDRejects(t *testing.T) {
	for _, s := range []string{"", "xyz", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5", "0193a1b2+c3d4-7e5f-8a9b-0c1d2e3f4a5b", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g"} {
		if _, err := ParseUUID(s); err == nil {
			t.Errorf("ParseUUID(%q) succeeded", s)
		}
	}
	var u UUID
	if err := u.UnmarshalText([]byte("nope")); err == nil {
		t.Error("UnmarshalText accepted garbage")
	}
	if err := u.UnmarshalText([]byte("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")); err != nil || u.String() != "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b" {
		t.Errorf("UnmarshalText: %s, %v", u, err)
	}
}

func TestValidateID(t *testing.T) {
	ok := []string{"a", "order-1", "日本語のストリーム", strings.Repeat("é", MaxIDLength), "with space", "slash/and#hash"}
	for _, id := range ok {
		if err := ValidateID("StreamID", id); err != nil {
			t.Errorf("ValidateID(%.20q) = %v", id, err)
		}
	}
	bad := map[string]string{
		"":                                 "empty",
		"\xff":                             "UTF-8",
		"tab\there":                        "control",
		"nul\x00":                          "control",
		"c1\u0085":                         "control",
		strings.Repeat("a", MaxIDLength+1): "1000",
	}
	for id, want := range bad {
		err := ValidateID("StreamID", id)
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) || ve.Field != "StreamID" {
			t.Errorf("ValidateID(%.20q) = %v, want a *ValidationError on StreamID", id, err)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateID(%.20q) = %q, want it to mention %q", id, err, want)
		}
	}
}

func validAttempt() *CommitAttempt {
	return &CommitAttempt{
		BucketID: DefaultBucket, StreamID: "s", StreamRevision: 3, CommitID: NewUUID(),
		CommitSequence: 2, CommitStamp: time.Now(), EventCount: 2, Payload: []byte("x"),
	}
}

func TestValidateAttempt(t *testing.T) {
	if err := ValidateAttempt(validAttempt()); err != nil {
		t.Fatalf("valid attempt: %v", err)
	}
	cases := map[string]func(a *CommitAttempt){
		"BucketID":       func(a *CommitAttempt) { a.BucketID = "" },
		"StreamID":       func(a *CommitAttempt) { a.StreamID = "a\nb" },
		"CommitID":       func(a *CommitAttempt) { a.CommitID = UUID{} },
		"CommitSequence": func(a *CommitAttempt) { a.CommitSequence = 0 },
		"EventCount":     func(a *CommitAttempt) { a.EventCount = 0 },
		"StreamRevision": func(a *CommitAttempt) { a.StreamRevision = 1 },
		"CommitStamp":    func(a *CommitAttempt) { a.CommitStamp = time.Time{} },
		"Payload":        func(a *CommitAttempt) { a.Payload = make([]byte, MaxPayloadSize+1) },
	}
	for field, spoil := range cases {
		a := validAttempt()
		spoil(a)
		var ve *ValidationError
		if err := ValidateAttempt(a); !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("spoiled %s: got %v", field, err)
		}
	}
	if err := ValidateAttempt(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil attempt: %v", err)
	}
	if a := validAttempt(); a.FirstRevision() != 2 {
		t.Errorf("FirstRevision = %d, want 2", a.FirstRevision())
	}
}

func TestValidateSnapshotAndRange(t *testing.T) {
	if err := ValidateSnapshot(&Snapshot{BucketID: "b", StreamID: "s", StreamRevision: 1, Payload: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	if err := ValidateSnapshot(&Snapshot{BucketID: "b", StreamID: "s", StreamRevision: 0, Payload: []byte("p")}); !errors.Is(err, ErrInvalid) {
		t.Errorf("revision 0: %v", err)
	}
	if err := ValidateRange(0, 0); err != nil {
		t.Error(err)
	}
	if err := ValidateRange(-1, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative min: %v", err)
	}
	if err := ValidateRange(5, 4); !errors.Is(err, ErrInvalid) {
		t.Errorf("max below min: %v", err)
	}
}

func TestStreamErrorNamesTheStream(t *testing.T) {
	a := validAttempt()
	a.StreamID = "order-7"
	err := commitError(a, ErrConcurrency)
	var se *StreamError
	if !errors.Is(err, ErrConcurrency) || !errors.As(err, &se) {
		t.Fatalf("commitError does not wrap: %v", err)
	}
	for _, want := range []string{`bucket "default"`, `stream "order-7"`, "revision 3", "commit sequence 2", a.CommitID.String(), "concurrency conflict"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	nested := commitError(a, &ValidationError{Field: "Payload", Reason: "must not be empty"})
	if got := nested.Error(); strings.Count(got, "eventstore:") != 1 || !strings.Contains(got, "invalid Payload: must not be empty") {
		t.Errorf("nested validation error reads %q", got)
	}
	long := &StreamError{Op: "read stream", BucketID: "b", StreamID: strings.Repeat("x", 500), Err: ErrStreamNotFound}
	if n := len(long.Error()); n > 200 {
		t.Errorf("a 500-character stream ID makes a %d-byte message", n)
	}
}

var registered atomic.Int64

func TestRegistry(t *testing.T) {
	name := fmt.Sprintf("test-engine-%d", registered.Add(1)) // -count=2 registers again
	Register(name, func(ctx context.Context, ds string, opts ...Option) (*Engine, error) {
		if ds != name+"://x" {
			t.Errorf("data source %q", ds)
		}
		return NewEngine(name, &fakeDriver{}, opts...)
	})
	if e, err := OpenURL(context.Background(), name+"://x"); err != nil || e == nil {
		t.Fatalf("OpenURL: %v, %v", e, err)
	}
	_, err := Open(context.Background(), "mongodb", "mongodb://localhost")
	if err == nil || !strings.Contains(err.Error(), `import _ "github.com/goeventstore/eventstore/persistence/mongo"`) {
		t.Errorf("unlinked known engine: %v", err)
	}
	_, err = Open(context.Background(), "cassandra", "")
	if err == nil || !strings.Contains(err.Error(), "test-engine") {
		t.Errorf("unknown engine should list the registered ones: %v", err)
	}
	if _, err := OpenURL(context.Background(), "no-scheme"); !errors.Is(err, ErrInvalid) {
		t.Errorf("URL without scheme: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	Register(name, func(context.Context, string, ...Option) (*Engine, error) { return nil, nil })
}
