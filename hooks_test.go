package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/goeventstore/eventstore"
)

func TestHooks(t *testing.T) {
	ctx := context.Background()
	var log []string
	upconvert := eventstore.HookFuncs{
		SelectCommitFunc: func(ctx context.Context, c eventstore.Commit) (eventstore.Commit, bool, error) {
			if c.Headers["hidden"] == true {
				return c, false, nil
			}
			for i, e := range c.Events {
				if s, ok := e.Body.(string); ok {
					c.Events[i].Body = "v2:" + s
				}
			}
			return c, true, nil
		},
	}
	recorder := eventstore.HookFuncs{
		PreCommitFunc: func(ctx context.Context, a eventstore.CommitAttempt) error {
			log = append(log, fmt.Sprintf("pre %s %d", a.StreamID, a.StreamRevision))
			if a.Headers["veto"] == true {
				return errors.New("not today")
			}
			return nil
		},
		PostCommitFunc: func(ctx context.Context, c eventstore.Commit) {
			log = append(log, fmt.Sprintf("post %s %d", c.StreamID, c.StreamRevision))
		},
		OnPurgeFunc: func(ctx context.Context, bucketID string) { log = append(log, "purge "+bucketID) },
		OnDeleteStreamFunc: func(ctx context.Context, bucketID, streamID string) {
			log = append(log, "delete "+bucketID+"/"+streamID)
		},
	}
	s := build(t, eventstore.Wireup().HookIntoPipelineUsing(upconvert, recorder, eventstore.HookFuncs{}))

	st, _ := s.CreateStream("s")
	commit(t, st, "a")
	st.SetHeader("hidden", true)
	commit(t, st, "b")

	// A veto: nothing written, the error says so, the events stay.
	st.SetHeader("veto", true)
	st.Add(eventstore.EventMessage{Body: "c"})
	_, err := st.CommitChanges(ctx, eventstore.NewCommitID())
	if !errors.Is(err, eventstore.ErrVetoed) || err == nil || !strings.Contains(err.Error(), "not today") {
		t.Fatalf("veto: got %v", err)
	}
	if len(st.UncommittedEvents()) != 1 {
		t.Fatal("vetoed events lost")
	}

	got, err := s.OpenStream(ctx, "s", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []any
	for _, e := range got.CommittedEvents() {
		bodies = append(bodies, e.Body)
	}
	if fmt.Sprint(bodies) != "[v2:a]" {
		t.Fatalf("select hooks: read %v, want [v2:a]", bodies)
	}
	n := 0
	for c, err := range s.Commits(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if c.Events[0].Body != "v2:a" {
			t.Fatalf("Commits: %v", c.Events[0].Body)
		}
	}
	if n != 1 {
		t.Fatalf("Commits yielded %d, want 1 (one filtered out)", n)
	}

	if err := s.DeleteStream(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if err := s.Bucket("b").Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"pre s 1", "post s 1", "pre s 2", "post s 2", "pre s 3", "delete default/s", "purge b", "purge "}
	if !slices.Equal(log, want) {
		t.Fatalf("hooks saw\n%q\nwant\n%q", log, want)
	}
}

func TestSelectHookError(t *testing.T) {
	boom := errors.New("boom")
	s := build(t, eventstore.Wireup().HookIntoPipelineUsing(eventstore.HookFuncs{
		SelectCommitFunc: func(context.Context, eventstore.Commit) (eventstore.Commit, bool, error) {
			return eventstore.Commit{}, false, boom
		},
	}))
	st, _ := s.CreateStream("s")
	commit(t, st, "x")
	_, err := s.OpenStream(context.Background(), "s", 0, 0)
	var se *eventstore.StreamError
	if !errors.Is(err, boom) || !errors.As(err, &se) || se.StreamID != "s" {
		t.Fatalf("got %v", err)
	}
}
