package s3

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRequestsPerOperation counts the requests the package documentation
// and the README quote: a commit by an engine that committed the stream's
// previous commit (5: HEAD, GET, 3 PUTs), by a fresh engine (7), and the
// reads of a 40-commit stream: ReadStream (1 LIST and 1 GET per commit) and
// ReadAll (1 LIST, 1 GET per log slot and 1 HEAD per commit).
func TestRequestsPerOperation(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		ctx := context.Background()
		openIsolated(t, rawURL)
		ft := &faultyTransport{base: newTransport()}
		e := faultyEngine(t, rawURL, ft, true)
		count := func(what string, want int, f func()) {
			t.Helper()
			ft.arm(loseAnswer, 0) // counts; no fault
			f()
			// Let the marker written in the background finish, and any
			// request beyond the expected ones show up.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if got, _ := ft.requests(); got >= want {
					break
				}
			}
			time.Sleep(300 * time.Millisecond)
			got, log := ft.requests()
			if got != want {
				t.Errorf("%s: %d requests, want %d:\n%s", what, got, want, strings.Join(log, "\n"))
			}
		}
		const n = 40
		count("the first commit of a fresh engine", 5, func() { // GET marker, LIST log, PUT log, PUT claim, PUT marker
			if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
				t.Fatal(err)
			}
		})
		for seq := 2; seq <= n; seq++ {
			count("a commit after the engine's own", 5, func() {
				if _, err := e.Commit(ctx, attempt("b", "s", seq)); err != nil {
					t.Fatal(err)
				}
			})
		}
		fresh := faultyEngine(t, rawURL, ft, true)
		count("a commit by another engine", 7, func() {
			if _, err := fresh.Commit(ctx, attempt("b", "s", n+1)); err != nil {
				t.Fatal(err)
			}
		})
		count("ReadStream of 41 commits", 1+n+1, func() {
			if got := all(t, "ReadStream", fresh.ReadStream(ctx, "b", "s", 0, 0)); len(got) != n+1 {
				t.Fatalf("read %d commits", len(got))
			}
		})
		count("ReadAll of 41 commits in 41 slots", 1+2*(n+1), func() {
			if got := all(t, "ReadAll", fresh.ReadAll(ctx, 0)); len(got) != n+1 {
				t.Fatalf("read %d commits", len(got))
			}
		})
		// Undispatched costs what is undispatched, not the store: once
		// every commit is marked and one scan moved the low-water mark,
		// a scan is a handful of requests whatever the store holds.
		for _, c := range all(t, "ReadAll", fresh.ReadAll(ctx, 0)) {
			if err := fresh.MarkDispatched(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if got := all(t, "Undispatched", fresh.Undispatched(ctx)); len(got) != 0 {
			t.Fatalf("Undispatched after marking every commit: %d commits", len(got))
		}
		// GET mark, LIST markers, LIST log from the mark's slot, GET that slot.
		count("Undispatched with nothing undispatched", 4, func() {
			if got := all(t, "Undispatched", fresh.Undispatched(ctx)); len(got) != 0 {
				t.Fatalf("Undispatched: %d commits", len(got))
			}
		})
		if _, err := fresh.Commit(ctx, attempt("b", "s", n+2)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // the background marker
		// ... and one slot GET and one claim HEAD per new commit.
		count("Undispatched with one undispatched commit", 6, func() {
			if got := all(t, "Undispatched", fresh.Undispatched(ctx)); len(got) != 1 {
				t.Fatalf("Undispatched: %d commits, want 1", len(got))
			}
		})
	})
}
