package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/goeventstore/eventstore"
)

func ev(bodies ...string) []eventstore.EventMessage {
	out := make([]eventstore.EventMessage, len(bodies))
	for i, b := range bodies {
		out[i] = eventstore.EventMessage{Body: b}
	}
	return out
}

// bodiesOf reads a stream's event bodies through OpenStream.
func bodiesOf(t *testing.T, s *eventstore.Store, streamID string) []string {
	t.Helper()
	st, err := s.OpenStream(context.Background(), streamID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range st.CommittedEvents() {
		out = append(out, e.Body.(string))
	}
	return out
}

func TestAppendNoStreamAndExact(t *testing.T) {
	engines(t, func(t *testing.T, w *eventstore.Builder) {
		ctx := context.Background()
		s := build(t, w)
		c1, err := s.Append(ctx, "s", eventstore.NoStream, eventstore.NewCommitID(), ev("a", "b")...)
		if err != nil {
			t.Fatal(err)
		}
		if c1.Position() != (eventstore.Position{Revision: 2, Sequence: 1}) || c1.Checkpoint <= 0 || c1.BucketID != "default" {
			t.Fatalf("first append: %+v", c1)
		}
		// The stream exists: NoStream conflicts, nothing written.
		_, err = s.Append(ctx, "s", eventstore.NoStream, eventstore.NewCommitID(), ev("x")...)
		if !errors.Is(err, eventstore.ErrConcurrency) || errors.Is(err, eventstore.ErrDuplicateCommit) {
			t.Fatalf("NoStream on an existing stream: %v", err)
		}
		var se *eventstore.StreamError
		if !errors.As(err, &se) || se.StreamID != "s" || se.CommitSequence != 1 {
			t.Fatalf("error is not a *StreamError naming the attempt: %#v", err)
		}
		c2, err := s.Append(ctx, "s", c1.Position(), eventstore.NewCommitID(), ev("c")...)
		if err != nil {
			t.Fatal(err)
		}
		if c2.Position() != (eventstore.Position{Revision: 3, Sequence: 2}) {
			t.Fatalf("second append at %+v", c2.Position())
		}
		// A stale position conflicts.
		_, err = s.Append(ctx, "s", c1.Position(), eventstore.NewCommitID(), ev("late")...)
		if !errors.Is(err, eventstore.ErrConcurrency) {
			t.Fatalf("stale position: %v", err)
		}
		// A stream read with OpenStream agrees, and CommitChanges goes on from there.
		st, err := s.OpenStream(ctx, "s", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if st.Position() != c2.Position() {
			t.Fatalf("stream at %+v, want %+v", st.Position(), c2.Position())
		}
		c3 := commit(t, st, "d")
		if _, err := s.Append(ctx, "s", c3.Position(), eventstore.NewCommitID(), ev("e")...); err != nil {
			t.Fatal(err)
		}
		if got := bodiesOf(t, s, "s"); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
			t.Fatalf("stream holds %v", got)
		}
	})
}

func TestAppendDuplicateTakesPrecedence(t *testing.T) {
	engines(t, func(t *testing.T, w *eventstore.Builder) {
		ctx := context.Background()
		s := build(t, w)
		id := eventstore.NewCommitID()
		c1, err := s.Append(ctx, "s", eventstore.NoStream, id, ev("a")...)
		if err != nil {
			t.Fatal(err)
		}
		// The same commit again: at the same position (a retry after a lost
		// answer), at the next one, and at any position.
		for _, at := range []eventstore.Position{eventstore.NoStream, c1.Position(), eventstore.AnyPosition} {
			_, err := s.Append(ctx, "s", at, id, ev("a")...)
			if !errors.Is(err, eventstore.ErrDuplicateCommit) {
				t.Fatalf("append of a stored commit ID at %+v: %v", at, err)
			}
		}
		// The same commit ID on another stream is another commit.
		if _, err := s.Append(ctx, "t", eventstore.NoStream, id, ev("a")...); err != nil {
			t.Fatal(err)
		}
		if got := bodiesOf(t, s, "s"); !slices.Equal(got, []string{"a"}) {
			t.Fatalf("stream holds %v", got)
		}
	})
}

// AnyPosition finds the end of streams of every length (commits of 1 to 3
// events), including empty ones, and appends there at the first attempt.
func TestAppendAnyPosition(t *testing.T) {
	engines(t, func(t *testing.T, w *eventstore.Builder) {
		ctx := context.Background()
		attempts := 0
		s := build(t, w.HookIntoPipelineUsing(eventstore.HookFuncs{PreCommitFunc: func(ctx context.Context, a eventstore.CommitAttempt) error {
			if a.Events[0].Body == "end" {
				attempts++
			}
			return nil
		}}))
		for n := 0; n <= 40; n++ {
			id := fmt.Sprint("s", n)
			var want []string
			rev, seq := 0, 0
			for rev < n {
				k := min(1+seq%3, n-rev)
				var bodies []string
				for range k {
					rev++
					bodies = append(bodies, fmt.Sprint(rev))
				}
				if _, err := s.Append(ctx, id, eventstore.Position{Revision: rev - k, Sequence: seq}, eventstore.NewCommitID(), ev(bodies...)...); err != nil {
					t.Fatal(err)
				}
				seq++
				want = append(want, bodies...)
			}
			attempts = 0
			c, err := s.Append(ctx, id, eventstore.AnyPosition, eventstore.NewCommitID(), ev("end")...)
			if err != nil {
				t.Fatal(err)
			}
			if attempts != 1 {
				t.Fatalf("stream of %d events: %d attempts, want 1 (the end was not found)", n, attempts)
			}
			if c.Position() != (eventstore.Position{Revision: n + 1, Sequence: seq + 1}) {
				t.Fatalf("stream of %d events in %d commits: appended at %+v", n, seq, c.Position())
			}
			if got := bodiesOf(t, s, id); !slices.Equal(got, append(want, "end")) {
				t.Fatalf("stream %s holds %v", id, got)
			}
		}
	})
}

// AnyPosition looks again when another writer gets there first.
func TestAppendAnyPositionRetries(t *testing.T) {
	ctx := context.Background()
	var s *eventstore.Store
	interfere := 2
	hook := eventstore.HookFuncs{PreCommitFunc: func(ctx context.Context, a eventstore.CommitAttempt) error {
		if a.Events[0].Body == "any" && interfere > 0 {
			interfere--
			// Another writer takes the position the attempt is about to take.
			if _, err := s.Append(ctx, a.StreamID, eventstore.Position{Revision: a.StreamRevision - 1, Sequence: a.CommitSequence - 1},
				eventstore.NewCommitID(), ev(fmt.Sprint("other", interfere))...); err != nil {
				return err
			}
		}
		return nil
	}}
	s = build(t, eventstore.Wireup().HookIntoPipelineUsing(hook))
	if _, err := s.Append(ctx, "s", eventstore.NoStream, eventstore.NewCommitID(), ev("first")...); err != nil {
		t.Fatal(err)
	}
	c, err := s.Append(ctx, "s", eventstore.AnyPosition, eventstore.NewCommitID(), ev("any")...)
	if err != nil {
		t.Fatal(err)
	}
	if interfere != 0 || c.Position() != (eventstore.Position{Revision: 4, Sequence: 4}) {
		t.Fatalf("appended at %+v after %d interferences left", c.Position(), interfere)
	}
	if got := bodiesOf(t, s, "s"); !slices.Equal(got, []string{"first", "other1", "other0", "any"}) {
		t.Fatalf("stream holds %v", got)
	}
}

func TestAppendBadInput(t *testing.T) {
	ctx := context.Background()
	s := build(t, eventstore.Wireup())
	id := eventstore.NewCommitID()
	cases := []struct {
		name   string
		stream string
		at     eventstore.Position
		id     eventstore.UUID
		events []eventstore.EventMessage
	}{
		{"no events", "s", eventstore.NoStream, id, nil},
		{"zero commit ID", "s", eventstore.NoStream, eventstore.UUID{}, ev("a")},
		{"nil body", "s", eventstore.NoStream, id, []eventstore.EventMessage{{Body: "a"}, {}}},
		{"empty stream ID", "", eventstore.NoStream, id, ev("a")},
		{"revision without sequence", "s", eventstore.Position{Revision: 1}, id, ev("a")},
		{"sequence without revision", "s", eventstore.Position{Sequence: 1}, id, ev("a")},
		{"sequence above revision", "s", eventstore.Position{Revision: 1, Sequence: 2}, id, ev("a")},
		{"negative", "s", eventstore.Position{Revision: -2, Sequence: -2}, id, ev("a")},
	}
	for _, tc := range cases {
		_, err := s.Append(ctx, tc.stream, tc.at, tc.id, tc.events...)
		var ve *eventstore.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, eventstore.ErrInvalid) {
			t.Errorf("%s: %v, want a *ValidationError", tc.name, err)
		}
	}
	for c, err := range s.Commits(ctx, 0) {
		t.Fatalf("bad input wrote %+v (%v)", c, err)
	}
	s.Close(ctx)
	if _, err := s.Append(ctx, "s", eventstore.NoStream, id, ev("a")...); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("append after Close: %v", err)
	}
}

// Append runs the hooks and dispatches, like CommitChanges, and works per
// bucket.
func TestAppendHooksDispatchBuckets(t *testing.T) {
	ctx := context.Background()
	var log []string
	hook := eventstore.HookFuncs{
		PreCommitFunc: func(ctx context.Context, a eventstore.CommitAttempt) error {
			log = append(log, fmt.Sprintf("pre %s/%s %d", a.BucketID, a.StreamID, a.CommitSequence))
			if a.Events[0].Body == "veto" {
				return errors.New("no")
			}
			return nil
		},
		PostCommitFunc: func(ctx context.Context, c eventstore.Commit) {
			log = append(log, fmt.Sprintf("post %s/%s %d", c.BucketID, c.StreamID, c.CommitSequence))
		},
	}
	var dispatched []string
	s := build(t, eventstore.Wireup().HookIntoPipelineUsing(hook).DispatchTo(func(ctx context.Context, c eventstore.Commit) error {
		dispatched = append(dispatched, fmt.Sprintf("%s/%s %v", c.BucketID, c.StreamID, c.Events[0].Body))
		return nil
	}))
	b := s.Bucket("b")
	c, err := b.Append(ctx, "s", eventstore.NoStream, eventstore.NewCommitID(), ev("one")...)
	if err != nil {
		t.Fatal(err)
	}
	if c.BucketID != "b" {
		t.Fatalf("bucket %q", c.BucketID)
	}
	if _, err := b.Append(ctx, "s", c.Position(), eventstore.NewCommitID(), ev("veto")...); !errors.Is(err, eventstore.ErrVetoed) {
		t.Fatalf("veto: %v", err)
	}
	// The default bucket's stream s is another stream.
	if _, err := s.Append(ctx, "s", eventstore.NoStream, eventstore.NewCommitID(), ev("two")...); err != nil {
		t.Fatal(err)
	}
	wantLog := []string{"pre b/s 1", "post b/s 1", "pre b/s 2", "pre default/s 1", "post default/s 1"}
	if !slices.Equal(log, wantLog) {
		t.Fatalf("hooks saw %q, want %q", log, wantLog)
	}
	if want := []string{"b/s one", "default/s two"}; !slices.Equal(dispatched, want) {
		t.Fatalf("dispatched %q, want %q", dispatched, want)
	}
	for c, err := range s.Engine().Undispatched(ctx) {
		t.Fatalf("not marked dispatched: %+v %v", c, err)
	}
}

func TestStreamCommits(t *testing.T) {
	engines(t, func(t *testing.T, w *eventstore.Builder) {
		ctx := context.Background()
		hide := eventstore.HookFuncs{SelectCommitFunc: func(ctx context.Context, c eventstore.Commit) (eventstore.Commit, bool, error) {
			if c.Headers["hidden"] == true {
				return c, false, nil
			}
			c.Events[0].Body = "v2:" + c.Events[0].Body.(string)
			return c, true, nil
		}}
		s := build(t, w.HookIntoPipelineUsing(hide))
		st, _ := s.CreateStream("s")
		var stored []*eventstore.Commit
		stored = append(stored, commit(t, st, "a", "b")) // revisions 1-2
		st.SetHeader("hidden", true)
		stored = append(stored, commit(t, st, "c"))           // 3, filtered out
		stored = append(stored, commit(t, st, "d", "e", "f")) // 4-6
		stored = append(stored, commit(t, st, "g"))           // 7
		if _, err := s.Bucket("other").Append(ctx, "s", eventstore.NoStream, eventstore.NewCommitID(), ev("x")...); err != nil {
			t.Fatal(err)
		}
		read := func(min, max int) []*eventstore.Commit {
			t.Helper()
			var out []*eventstore.Commit
			for c, err := range s.StreamCommits(ctx, "s", min, max) {
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, &c)
			}
			return out
		}
		check := func(min, max int, want ...int) {
			t.Helper()
			got := read(min, max)
			if len(got) != len(want) {
				t.Fatalf("[%d, %d]: %d commits, want %d", min, max, len(got), len(want))
			}
			for i, g := range got {
				w := stored[want[i]]
				if g.CommitID != w.CommitID || g.CommitSequence != w.CommitSequence || g.StreamRevision != w.StreamRevision ||
					g.Checkpoint != w.Checkpoint || !g.CommitStamp.Equal(w.CommitStamp) || len(g.Events) != len(w.Events) ||
					g.Events[0].Body != "v2:"+w.Events[0].Body.(string) {
					t.Fatalf("[%d, %d] #%d: %+v, want %+v", min, max, i, g, w)
				}
			}
		}
		check(0, 0, 0, 2, 3)
		check(2, 5, 0, 2) // whole commits holding revisions 2 to 5
		check(5, 0, 2, 3)
		check(8, 0)
		for c, err := range s.StreamCommits(ctx, "nope", 0, 0) {
			t.Fatalf("a stream that does not exist yielded %+v %v", c, err)
		}
		n := 0
		for c, err := range s.Bucket("other").StreamCommits(ctx, "s", 0, 0) {
			if err != nil || c.Events[0].Body != "v2:x" {
				t.Fatalf("other bucket: %+v %v", c, err)
			}
			n++
		}
		if n != 1 {
			t.Fatalf("other bucket: %d commits", n)
		}
		for _, bad := range [][2]int{{-1, 0}, {5, 3}} {
			for _, err := range s.StreamCommits(ctx, "s", bad[0], bad[1]) {
				if !errors.Is(err, eventstore.ErrInvalid) {
					t.Fatalf("range %v: %v", bad, err)
				}
			}
		}
	})
}
