package persistence

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets of the validation and the URL parsers; their seed corpora
// are under testdata/fuzz, so that go test runs them.

func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"", "a", "stream-1", "\x00", "\x7f", "\u0085", "\xff", "é", strings.Repeat("x", 1000), strings.Repeat("é", 1001), " ", "a/b?c#d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := ValidateID("StreamID", id)
		ok := id != "" && utf8.ValidString(id) && utf8.RuneCountInString(id) <= MaxIDLength
		for _, r := range id {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
				ok = false
			}
		}
		if ok != (err == nil) {
			t.Fatalf("%q: got %v, valid %v", id, err, ok)
		}
		if err != nil {
			var ve *ValidationError
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) || ve.Field != "StreamID" {
				t.Fatalf("%q: %v", id, err)
			}
			if !utf8.ValidString(err.Error()) && utf8.ValidString(id) {
				t.Fatalf("message not valid UTF-8: %q", err.Error())
			}
		}
	})
}

func FuzzValidateAttempt(f *testing.F) {
	f.Add("default", "s", 1, 1, 1, []byte("x"), int64(1))
	f.Add("", "s", 0, 0, 0, []byte{}, int64(0))
	f.Add("b", "s", -1, 5, 1<<31, []byte("x"), int64(-1))
	f.Fuzz(func(t *testing.T, bucket, stream string, seq, rev, count int, payload []byte, stamp int64) {
		a := &CommitAttempt{BucketID: bucket, StreamID: stream, CommitSequence: seq, StreamRevision: rev,
			EventCount: count, Payload: payload, CommitID: UUID{1}}
		if stamp != 0 {
			a.CommitStamp = time.Unix(0, stamp).UTC()
		}
		err := ValidateAttempt(a)
		if err == nil {
			if ValidateID("BucketID", bucket) != nil || ValidateID("StreamID", stream) != nil ||
				seq <= 0 || count <= 0 || rev < count || rev < seq || len(payload) == 0 || len(payload) > MaxPayloadSize ||
				a.FirstRevision() < 1 {
				t.Fatalf("accepted %+v", a)
			}
		} else if !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v: %v", a, err)
		}
		_ = ValidateRange(seq, rev)
		_ = ValidateSnapshot(&Snapshot{BucketID: bucket, StreamID: stream, StreamRevision: rev, Payload: payload})
	})
}

func FuzzTakeURLOptions(f *testing.F) {
	for _, s := range []string{"", "memory://", "memory://?page_size=3", "root@tcp(127.0.0.1:3306)/db?parseTime=true&op_timeout=2s",
		"mongodb://h/?page_size=0", "x?admin_timeout=-1s", "x?%zz", "a?b?page_size=7&page_size=8", "?page_size=99999999999999999999", "?op_timeout=9223372036s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ds string) {
		rest, opts, err := TakeURLOptions(ds)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: %v", ds, err)
			}
			return
		}
		if len(opts) == 0 && rest != ds {
			t.Fatalf("%q: nothing taken, but the data source became %q", ds, rest)
		}
		s, err := NewSettings(opts...)
		if err != nil {
			t.Fatalf("%q: options taken from the URL are invalid: %v", ds, err)
		}
		if s.PageSize <= 0 || s.Timeout <= 0 || s.AdminTimeout <= 0 {
			t.Fatalf("%q: %+v", ds, s)
		}
		// What is left of the query has no portable parameter any more.
		// (An earlier "?" belongs to the engine's own syntax: only the
		// parameters after the last one are taken, as documented.)
		if len(opts) == 0 || strings.LastIndexByte(rest, '?') != strings.LastIndexByte(ds, '?') {
			return
		}
		if again, more, err := TakeURLOptions(rest); err != nil || len(more) != 0 || again != rest {
			t.Fatalf("%q: rest %q still yields %d options (%v)", ds, rest, len(more), err)
		}
	})
}

func FuzzParseSettings(f *testing.F) {
	for _, s := range []string{"", "memory://?page_size=3&keep_values=false", "x?page_size=1&op_timeout=1ns&admin_timeout=1h", "x?page_size=abc"} {
		f.Add(s, 0)
	}
	f.Add("x?page_size=5", 7)
	f.Fuzz(func(t *testing.T, ds string, pageSize int) {
		var opts []Option
		if pageSize != 0 {
			opts = append(opts, WithPageSize(pageSize))
		}
		_, s, err := ParseSettings(ds, opts...)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: %v", ds, err)
			}
			return
		}
		if s.PageSize <= 0 || s.Timeout <= 0 || s.AdminTimeout <= 0 {
			t.Fatalf("%q: %+v", ds, s)
		}
		if pageSize > 0 && s.PageSize != pageSize {
			t.Fatalf("the option in code lost: %d", s.PageSize)
		}
	})
}
