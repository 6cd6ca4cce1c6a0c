package azuretables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/goeventstore/eventstore/persistence"
)

// fault is a transport under the SDK that simulates a writer dying or a
// network losing an answer at request number k (from 1) of the requests
// sent after arm:
//
//	before  request k fails without being sent (later ones go through)
//	lose    request k is applied by the server, its answer is lost
//	stop    requests k, k+1, ... all fail unsent: the process died
type fault struct {
	base policy.Transporter
	mode string

	mu    sync.Mutex
	armed bool
	k, n  int
	hit   bool
}

var errInjected = errors.New("injected fault")

func (f *fault) arm(mode string, k int) {
	f.mu.Lock()
	f.mode, f.k, f.n, f.armed, f.hit = mode, k, 0, true, false
	f.mu.Unlock()
}

func (f *fault) Do(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	fail, lose := false, false
	if f.armed {
		f.n++
		switch {
		case f.mode == "before" && f.n == f.k, f.mode == "stop" && f.n >= f.k:
			fail = true
		case f.mode == "lose" && f.n == f.k:
			lose = true
		}
		f.hit = f.hit || fail || lose
	}
	f.mu.Unlock()
	if fail {
		if req.Body != nil {
			io.Copy(io.Discard, req.Body)
		}
		return nil, fmt.Errorf("request %s %s: %w", req.Method, req.URL.Path, errInjected)
	}
	resp, err := f.base.Do(req)
	if lose && err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("answer to %s %s: %w", req.Method, req.URL.Path, errInjected)
	}
	return resp, err
}

func (f *fault) sent() (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, f.hit
}

// TestCrashAtEveryStep makes a commit's k-th request fail (before it is
// sent; after it was applied, with the answer lost; or that request and
// every later one, as if the writer died), for every k up to past the
// last request of a commit, with inline and chunked payloads, and with and
// without the SDK's retries. Then fresh engines on the same table check:
// the commit is either wholly visible (stream read, checkpoint read,
// undispatched) or not at all; if Commit succeeded it is visible; a retry
// with the same commit ID tells which (ErrDuplicateCommit, or stored now);
// the checkpoint order has no duplicates and the stream goes on.
func TestCrashAtEveryStep(t *testing.T) {
	srv := testserverAzure(t)
	for _, size := range []int{512, 1 << 20} {
		// A clean run counts the requests of a commit (and of the cached
		// decision that follows it); every k up to one past them is tried.
		n := requestsOfCommit(t, srv.Isolated(t), size)
		t.Logf("a commit of %d payload bytes takes %d requests on a fresh engine, with its cached decision", size, n)
		for _, retries := range []int{-1, 3} {
			for _, mode := range []string{"before", "lose", "stop"} {
				if mode == "stop" && retries > 0 {
					continue // the SDK's retries of a dead process fail alike
				}
				for k := 1; k <= n+1; k++ {
					t.Run(fmt.Sprintf("payload=%d/retries=%d/%s/k=%d", size, retries, mode, k), func(t *testing.T) {
						t.Parallel()
						crashOnce(t, srv.Isolated(t), size, retries, mode, k)
					})
				}
			}
		}
	}
}

func requestsOfCommit(t *testing.T, url string, size int) int {
	f := &fault{base: newGuard(t, nil)}
	e, _ := openWith(t, url, f, -1, persistence.WithTimeout(time.Minute))
	if _, err := e.Commit(t.Context(), attempt("b", "s", 1)); err != nil {
		t.Fatal(err)
	}
	a := attempt("b", "s", 2)
	a.Payload = make([]byte, size)
	f.arm("none", 0)
	if _, err := e.Commit(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * markDelay)
	n, _ := f.sent()
	return n + 2 // the fresh engine in crashOnce finds the end of the log first: !tail, then the keys above it
}

func crashOnce(t *testing.T, url string, size, retries int, mode string, k int) {
	ctx := t.Context()
	const grace = 300 * time.Millisecond
	// Generous timeouts: 1 MiB batches under the race detector on a
	// loaded machine take seconds.
	good, _ := openWith(t, url, newGuard(t, nil), 0, WithResolveAfter(grace), persistence.WithTimeout(time.Minute))
	first := attempt("b", "s", 1)
	if _, err := good.Commit(ctx, first); err != nil {
		t.Fatal(err)
	}
	f := &fault{base: newGuard(t, nil)}
	bad, _ := openWith(t, url, f, retries, WithResolveAfter(time.Hour), persistence.WithTimeout(time.Minute))
	a := attempt("b", "s", 2)
	a.Payload = bytes.Repeat([]byte{7, 1, 3}, size/3+1)[:size]
	f.arm(mode, k)
	_, err := bad.Commit(ctx, a)
	time.Sleep(2 * markDelay) // let the writer's cached decisions go out (or fail)
	n, _ := f.sent()
	if mode == "stop" {
		bad.Close(ctx) // the process is gone
	}
	t.Logf("Commit after %d requests: %v", n, err)
	if err == nil || !errors.Is(err, errInjected) && !errors.Is(err, persistence.ErrStorageUnavailable) {
		if err != nil {
			t.Errorf("Commit failed with %v, want success or the injected fault", err)
		}
	}

	time.Sleep(grace + 100*time.Millisecond) // past resolve_after: readers abort the dead writer's slot
	fresh, _ := openWith(t, url, newGuard(t, nil), 0, WithResolveAfter(grace), persistence.WithTimeout(time.Minute))
	visible := check(t, fresh, a, first)
	if err == nil && !visible {
		t.Fatalf("Commit succeeded but the commit is not visible")
	}
	_, rerr := fresh.Commit(ctx, a)
	switch {
	case visible && !errors.Is(rerr, persistence.ErrDuplicateCommit):
		t.Errorf("retry of a stored commit: %v, want ErrDuplicateCommit", rerr)
	case !visible && rerr != nil:
		t.Errorf("retry of a commit that was not stored: %v", rerr)
	}
	if !check(t, fresh, a, first) {
		t.Errorf("after the retry the commit is not visible")
	}
	if _, err := fresh.Commit(ctx, attempt("b", "s", 3)); err != nil {
		t.Errorf("the next commit on the stream: %v", err)
	}
	all := readAll(t, fresh, 0)
	if len(all) != 3 {
		t.Errorf("ReadAll = %d commits, want 3", len(all))
	}
}

// check reads the stream, the log and the undispatched commits with e and
// reports whether a is in them; it fails t if the reads disagree or a
// shows twice or damaged.
func check(t *testing.T, e *persistence.Engine, a *persistence.CommitAttempt, first *persistence.CommitAttempt) bool {
	t.Helper()
	ctx := t.Context()
	count := func(what string, cs []persistence.Commit) int {
		n := 0
		for _, c := range cs {
			if c.CommitID == a.CommitID {
				n++
				if !bytes.Equal(c.Payload, a.Payload) || c.CommitSequence != a.CommitSequence {
					t.Errorf("%s: commit %s damaged (seq %d, %d payload bytes)", what, c.CommitID, c.CommitSequence, len(c.Payload))
				}
			}
		}
		if n > 1 {
			t.Errorf("%s: commit %s %d times", what, a.CommitID, n)
		}
		return n
	}
	var stream []persistence.Commit
	for c, err := range e.ReadStream(ctx, a.BucketID, a.StreamID, 0, 0) {
		if err != nil {
			t.Fatalf("ReadStream: %v", err)
		}
		stream = append(stream, c)
	}
	all := readAll(t, e, 0)
	var und []persistence.Commit
	for c, err := range e.Undispatched(ctx) {
		if err != nil {
			t.Fatalf("Undispatched: %v", err)
		}
		und = append(und, c)
	}
	s, l, u := count("ReadStream", stream), count("ReadAll", all), count("Undispatched", und)
	if s != l || l != u {
		t.Errorf("commit %s: %d in the stream, %d in ReadAll, %d undispatched: reads disagree", a.CommitID, s, l, u)
	}
	if len(stream) != len(all) {
		t.Errorf("stream has %d commits, ReadAll %d", len(stream), len(all))
	}
	return l == 1
}

func readAll(t *testing.T, e *persistence.Engine, after int64) []persistence.Commit {
	t.Helper()
	var out []persistence.Commit
	last := after
	for c, err := range e.ReadAll(t.Context(), after) {
		if err != nil {
			t.Fatalf("ReadAll: %v", err)
		}
		if c.Checkpoint <= last {
			t.Errorf("ReadAll: checkpoint %d after %d", c.Checkpoint, last)
		}
		last = c.Checkpoint
		out = append(out, c)
	}
	return out
}

var _ = context.Background
