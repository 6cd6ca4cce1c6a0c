package mysql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

func attempt(bucket, stream string, seq int) *persistence.CommitAttempt {
	return &persistence.CommitAttempt{
		BucketID: bucket, StreamID: stream, StreamRevision: seq, CommitID: persistence.NewUUID(),
		CommitSequence: seq, CommitStamp: time.Now().UTC().Truncate(time.Microsecond), EventCount: 1,
		Payload: []byte("payload " + stream),
	}
}

func readStream(t *testing.T, e *persistence.Engine, bucket, stream string) []persistence.Commit {
	t.Helper()
	var out []persistence.Commit
	for c, err := range e.ReadStream(context.Background(), bucket, stream, 0, 0) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// The unique keys decide, and a duplicate commit ID wins over a taken
// sequence whichever key InnoDB reports.
func TestCommitConflicts(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		first := attempt("b", "s", 1)
		if _, err := e.Commit(ctx, first); err != nil {
			t.Fatal(err)
		}
		retry := *first // exact retry: both keys fire
		if _, err := e.Commit(ctx, &retry); !errors.Is(err, persistence.ErrDuplicateCommit) {
			t.Fatalf("exact retry: %v, want ErrDuplicateCommit", err)
		}
		later := *first // same commit ID at the next sequence: only ux_commit_id fires
		later.CommitSequence, later.StreamRevision = 2, 2
		if _, err := e.Commit(ctx, &later); !errors.Is(err, persistence.ErrDuplicateCommit) {
			t.Fatalf("commit ID at next sequence: %v, want ErrDuplicateCommit", err)
		}
		other := attempt("b", "s", 1) // another commit ID at a taken sequence
		_, err := e.Commit(ctx, other)
		if !errors.Is(err, persistence.ErrConcurrency) || errors.Is(err, persistence.ErrDuplicateCommit) {
			t.Fatalf("taken sequence: %v, want ErrConcurrency only", err)
		}
		var se *persistence.StreamError
		if !errors.As(err, &se) || se.StreamID != "s" || se.CommitSequence != 1 {
			t.Fatalf("error %v does not name the stream and sequence", err)
		}
		// The same commit ID on another stream and in another bucket is fine.
		elsewhere := *first
		elsewhere.StreamID = "s2"
		if _, err := e.Commit(ctx, &elsewhere); err != nil {
			t.Fatal(err)
		}
		elsewhere.BucketID = "b2"
		if _, err := e.Commit(ctx, &elsewhere); err != nil {
			t.Fatal(err)
		}
		if got := readStream(t, e, "b", "s"); len(got) != 1 || got[0].CommitID != first.CommitID {
			t.Fatalf("stream holds %d commits, want the first one only", len(got))
		}
	})
}

// Stream and bucket IDs of 1000 characters of any Unicode round-trip, and
// IDs that share a long prefix stay apart.
func TestLongUnicodeIDs(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		long := strings.Repeat("𝄞é中", 333) + "x" // 1000 characters, 4-, 2- and 3-byte runes
		bucket := strings.Repeat("ü", 999) + "b"
		for _, id := range []string{long, long[:len(long)-1] + "y", "Straße", "strasse", "STRASSE"} {
			c, err := e.Commit(ctx, attempt(bucket, id, 1))
			if err != nil {
				t.Fatalf("commit %q: %v", id[:10], err)
			}
			got := readStream(t, e, bucket, id)
			if len(got) != 1 || got[0].StreamID != id || got[0].BucketID != bucket || got[0].Checkpoint != c.Checkpoint {
				t.Fatalf("stream %q read back %+v", id[:10], got)
			}
		}
		var n int
		for c, err := range e.ReadBucket(ctx, bucket, 0) {
			if err != nil {
				t.Fatal(err)
			}
			if c.BucketID != bucket {
				t.Fatalf("bucket read back as %q", c.BucketID[:10])
			}
			n++
		}
		if n != 5 {
			t.Fatalf("bucket holds %d commits, want 5", n)
		}
	})
}

func TestCommitRoundTrip(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		a := attempt("b", "s", 1)
		a.EventCount, a.StreamRevision = 3, 3
		a.Payload = make([]byte, persistence.MaxPayloadSize)
		for i := range a.Payload {
			a.Payload[i] = byte(i * 7)
		}
		a.CommitStamp = time.Date(2031, 2, 3, 4, 5, 6, 789012000, time.UTC)
		c, err := e.Commit(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		got := readStream(t, e, "b", "s")
		if len(got) != 1 {
			t.Fatalf("read %d commits", len(got))
		}
		g := got[0]
		if g.Checkpoint != c.Checkpoint || g.CommitID != a.CommitID || !g.CommitStamp.Equal(a.CommitStamp) ||
			g.EventCount != 3 || g.StreamRevision != 3 || g.CommitSequence != 1 || string(g.Payload) != string(a.Payload) {
			t.Fatalf("read back a different commit")
		}
		if g.CommitStamp.Location() != time.UTC {
			t.Fatalf("stamp in %v, want UTC", g.CommitStamp.Location())
		}
	})
}
