package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// attempt returns a one-event attempt at sequence seq of stream, with a
// payload naming it.
func attempt(bucket, stream string, seq int) *persistence.CommitAttempt {
	id := persistence.NewUUID()
	return &persistence.CommitAttempt{
		BucketID: bucket, StreamID: stream, StreamRevision: seq, CommitID: id, CommitSequence: seq,
		CommitStamp: time.Now().UTC().Truncate(time.Microsecond), EventCount: 1,
		Payload: fmt.Appendf(nil, `{"stream":%q,"seq":%d,"id":"%s"}`, stream, seq, id),
	}
}

func all[T any](t testing.TB, what string, seq iter.Seq2[T, error]) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		out = append(out, v)
	}
	return out
}

// inStream returns the commits of cs on stream, and those with commit ID id.
func inStream(cs []persistence.Commit, bucket, stream string, id persistence.UUID) (on, with []persistence.Commit) {
	for _, c := range cs {
		if c.BucketID == bucket && c.StreamID == stream {
			on = append(on, c)
			if c.CommitID == id {
				with = append(with, c)
			}
		}
	}
	return on, with
}

// same reports how two lists of commits differ ("" if they do not).
func same(a, b []persistence.Commit) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d commits vs %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Checkpoint != y.Checkpoint || x.CommitID != y.CommitID || x.CommitSequence != y.CommitSequence ||
			!bytes.Equal(x.Payload, y.Payload) || !x.CommitStamp.Equal(y.CommitStamp) || x.StreamRevision != y.StreamRevision {
			return fmt.Sprintf("commit %d: %+v vs %+v", i, x.CommitAttempt, y.CommitAttempt)
		}
	}
	return ""
}

// checkWhole checks, through fresh engines, that attempt a (the last of its
// stream, at sequence a.CommitSequence, following the commits before) is
// stored wholly or not at all, that it is if acked (at checkpoint cp), and
// that a retry tells which and leaves it stored once. It returns whether it
// was visible before the retry.
func checkWhole(t *testing.T, rawURL string, a *persistence.CommitAttempt, before []persistence.Commit, acked bool, cp int64) bool {
	t.Helper()
	ctx := context.Background()
	fresh := faultyEngine(t, rawURL, nil, true)
	b, s := a.BucketID, a.StreamID
	// ReadAll decides what a crash left undecided (roll-forward): compare the
	// stream with it after it has run.
	log1, with := inStream(all(t, "ReadAll", fresh.ReadAll(ctx, 0)), b, s, a.CommitID)
	stream := all(t, "ReadStream", fresh.ReadStream(ctx, b, s, 0, 0))
	if d := same(log1, stream); d != "" {
		t.Fatalf("half-visible commit: ReadAll and ReadStream of the stream differ: %s", d)
	}
	if len(with) > 1 {
		t.Fatalf("commit stored %d times", len(with))
	}
	visible := len(with) == 1
	if d := same(stream[:min(len(before), len(stream))], before); d != "" || len(stream) < len(before) {
		t.Fatalf("the commits before the crash changed: %s", d)
	}
	if acked && (!visible || with[0].Checkpoint != cp) {
		t.Fatalf("an acknowledged commit (checkpoint %d) is lost: the stream holds %v", cp, with)
	}
	// A second fresh engine sees the same.
	other := faultyEngine(t, rawURL, nil, true)
	log2, _ := inStream(all(t, "ReadAll", other.ReadAll(ctx, 0)), b, s, a.CommitID)
	if d := same(log1, log2); d != "" {
		t.Fatalf("two fresh engines disagree: %s", d)
	}
	undisp, _ := inStream(all(t, "Undispatched", other.Undispatched(ctx)), b, s, a.CommitID)
	if d := same(undisp, log1); d != "" {
		t.Fatalf("Undispatched disagrees with ReadAll: %s", d)
	}
	// The retry tells which.
	_, err := fresh.Commit(ctx, a)
	switch {
	case visible && !errors.Is(err, persistence.ErrDuplicateCommit):
		t.Fatalf("retry of a stored commit: %v, want ErrDuplicateCommit", err)
	case !visible && err != nil:
		t.Fatalf("retry of a commit not stored: %v", err)
	}
	_, with = inStream(all(t, "ReadAll", other.ReadAll(ctx, 0)), b, s, a.CommitID)
	_, with2 := inStream(all(t, "ReadStream", other.ReadStream(ctx, b, s, 0, 0)), b, s, a.CommitID)
	if len(with) != 1 || len(with2) != 1 {
		t.Fatalf("after the retry the commit is in ReadAll %d times, in ReadStream %d times; want once", len(with), len(with2))
	}
	// The stream goes on.
	if _, err := fresh.Commit(ctx, attempt(b, s, a.CommitSequence+1)); err != nil {
		t.Fatalf("the commit after: %v", err)
	}
	return visible
}

// newTransport returns a transport of its own for an engine under test.
func newTransport() *http.Transport {
	return http.DefaultTransport.(*http.Transport).Clone()
}

// TestCrashAtEveryStep runs a commit once to count its requests (cold: a
// fresh engine; warm: an engine that has committed before), then, for
// every request index k and each fault (see faultyTransport), commits
// through an engine that suffers it at k, and checks through fresh engines
// that the commit is stored wholly or not at all, that an acknowledged one
// is stored, and that a retry with the same commit ID tells which. A lost
// answer must not fail the commit at all: the SDK retries it, and a 412 on
// the engine's own conditional write is recognised as success.
func TestCrashAtEveryStep(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		ctx := context.Background()
		clean := openIsolated(t, rawURL)
		for _, warm := range []bool{false, true} {
			name := map[bool]string{false: "Cold", true: "Warm"}[warm]
			prepare := func(t *testing.T, retries bool, stream string) (*faultyTransport, *persistence.Engine, []persistence.Commit) {
				first, err := clean.Commit(ctx, attempt("b", stream, 1))
				if err != nil {
					t.Fatal(err)
				}
				ft := &faultyTransport{base: newTransport()}
				e := faultyEngine(t, rawURL, ft, retries)
				if warm {
					if _, err := e.Commit(ctx, attempt("b", stream+"-warm", 1)); err != nil {
						t.Fatal(err)
					}
					if _, err := e.Commit(ctx, attempt("b", stream, 2)); err != nil {
						t.Fatal(err)
					}
					second := all(t, "ReadStream", clean.ReadStream(ctx, "b", stream, 0, 0))
					return ft, e, second
				}
				return ft, e, []persistence.Commit{first}
			}
			t.Run(name, func(t *testing.T) {
				// Count the requests of the protocol.
				ft, e, before := prepare(t, true, "count-"+name)
				ft.arm(loseAnswer, 0)
				a := attempt("b", "count-"+name, len(before)+1)
				if _, err := e.Commit(ctx, a); err != nil {
					t.Fatal(err)
				}
				e.Close(ctx) // waits for the marker written in the background
				total, log := ft.requests()
				t.Logf("a %s commit makes %d requests:\n%s", strings.ToLower(name), total, strings.Join(log, "\n"))
				for mode := failBefore; mode <= stopAfter; mode++ {
					for k := 1; k <= total; k++ {
						t.Run(fmt.Sprintf("%s/k=%d", modeNames[mode], k), func(t *testing.T) {
							stream := fmt.Sprintf("crash-%s-%d-%d", name, mode, k)
							ft, e, before := prepare(t, mode == loseAnswer, stream)
							a := attempt("b", stream, len(before)+1)
							ft.arm(mode, k)
							c, err := e.Commit(ctx, a)
							e.Close(ctx)
							_, log := ft.requests()
							if mode == loseAnswer && err != nil {
								t.Fatalf("the answer of request %d was lost and the SDK retried it, but Commit failed: %v\n%s", k, err, strings.Join(log, "\n"))
							}
							if mode != loseAnswer && err == nil && k <= total-1 && !strings.Contains(log[len(log)-1], "/i/") {
								// Only the best-effort marker may fail without failing the commit.
								t.Logf("commit succeeded although request %d failed:\n%s", k, strings.Join(log, "\n"))
							}
							if errors.Is(err, persistence.ErrConcurrency) || errors.Is(err, persistence.ErrDuplicateCommit) {
								t.Fatalf("a fault at request %d reported as %v\n%s", k, err, strings.Join(log, "\n"))
							}
							checkWhole(t, rawURL, a, before, err == nil, c.Checkpoint)
						})
					}
				}
			})
		}
	})
}

// TestCrashWhileRepairing leaves an undecided intent (its writer dies right
// after the log write), then lets a reader that rolls it forward suffer
// each fault at each of its requests, and checks through fresh engines
// that the commit is whole, and visible if the faulty reader returned it.
func TestCrashWhileRepairing(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		ctx := context.Background()
		clean := openIsolated(t, rawURL)
		// undecided commits a's stream's first commit, then a's intent only.
		// It returns a checkpoint below a's and above every commit before.
		undecided := func(t *testing.T, stream string) (*persistence.CommitAttempt, int64) {
			first, err := clean.Commit(ctx, attempt("b", stream, 1))
			if err != nil {
				t.Fatal(err)
			}
			ft := &faultyTransport{base: newTransport()}
			w := faultyEngine(t, rawURL, ft, false)
			warm, err := w.Commit(ctx, attempt("b", stream+"-warm", 1))
			if err != nil {
				t.Fatal(err)
			}
			ft.arm(stopAfterLog, 0)
			a := attempt("b", stream, 2)
			_, err = w.Commit(ctx, a)
			w.Close(ctx)
			if err == nil {
				t.Fatal("the writer stopped after its log write, yet Commit succeeded")
			}
			_ = first
			return a, warm.Checkpoint
		}
		// Count a repairing reader's requests.
		a, after := undecided(t, "count")
		ft := &faultyTransport{base: newTransport()}
		r := faultyEngine(t, rawURL, ft, true)
		ft.arm(loseAnswer, 0)
		_, got := inStream(all(t, "ReadAll", r.ReadAll(ctx, after)), a.BucketID, a.StreamID, a.CommitID)
		if len(got) != 1 {
			t.Fatalf("the reader did not roll the undecided intent forward: %v", got)
		}
		total, log := ft.requests()
		t.Logf("a reader rolling one intent forward makes %d requests:\n%s", total, strings.Join(log, "\n"))
		for mode := failBefore; mode <= stopAfter; mode++ {
			for k := 1; k <= total; k++ {
				t.Run(fmt.Sprintf("%s/k=%d", modeNames[mode], k), func(t *testing.T) {
					a, after := undecided(t, fmt.Sprintf("repair-%d-%d", mode, k))
					before := all(t, "ReadStream", clean.ReadStream(ctx, a.BucketID, a.StreamID, 0, 0))
					ft := &faultyTransport{base: newTransport()}
					r := faultyEngine(t, rawURL, ft, mode == loseAnswer)
					ft.arm(mode, k)
					var returned bool
					for c, err := range r.ReadAll(ctx, after) {
						if err != nil {
							break
						}
						if c.CommitID == a.CommitID {
							returned = true
						}
					}
					visible := checkWhole(t, rawURL, a, before, false, 0)
					if returned && !visible {
						t.Fatal("the faulty reader returned the commit, fresh engines do not see it")
					}
				})
			}
		}
	})
}
