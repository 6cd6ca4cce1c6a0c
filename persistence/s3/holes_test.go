package s3

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// openDriver opens an initialized engine on the bucket of rawURL and
// returns it with its driver, whose log the test steers.
func openDriver(t *testing.T, rawURL string) (*persistence.Engine, *engine) {
	t.Helper()
	client, bucket := testClient(t, rawURL, nil, true)
	var d *engine
	e, err := persistence.NewEngineFrom("s3", func(s *persistence.Settings) (*engine, error) {
		var err error
		d, err = newEngine(client, bucket, "", s)
		return d, err
	}, persistence.WithTimeout(testTimeout))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e, d
}

// aim makes d's next slot write try slot n first, as a writer that knows
// slot n-1 exists (so that it does not void holes of its own).
func aim(d *engine, n int64) {
	d.log.mu.Lock()
	d.log.base, d.log.next = n-1, n
	d.log.mu.Unlock()
}

// readSlotBody returns the body of log slot n.
func readSlotBody(t *testing.T, d *engine, n int64) (slot, bool) {
	t.Helper()
	body, _, found, err := d.o.get(context.Background(), d.k.log(n))
	if err != nil {
		t.Fatal(err)
	}
	var s slot
	if found {
		if err := json.Unmarshal(body, &s); err != nil {
			t.Fatal(err)
		}
	}
	return s, found
}

// TestReaderVoidsHole: a reader that meets a missing slot below one that
// exists voids it before it returns anything above it; a writer late for
// that slot gets 412 and commits at a slot above everything the reader
// returned, and the reader, polling on, sees it exactly once.
func TestReaderVoidsHole(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		rawURL := isolatedURL(t, kind)
		w, wd := openDriver(t, rawURL)
		late, ld := openDriver(t, rawURL)
		reader := openIsolated(t, rawURL)

		c1, err := w.Commit(ctx, attempt("b", "w", 1))
		if err != nil {
			t.Fatal(err)
		}
		aim(wd, 3) // slot 2 stays a hole: a writer that passed over it
		c3, err := w.Commit(ctx, attempt("b", "w", 2))
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := slotOf(c1.Checkpoint); n != 1 {
			t.Fatalf("first commit in slot %d, want 1", n)
		}
		if n, _ := slotOf(c3.Checkpoint); n != 3 {
			t.Fatalf("second commit in slot %d, want 3", n)
		}
		if _, found := readSlotBody(t, wd, 2); found {
			t.Fatal("slot 2 exists before any reader met it")
		}

		got := all(t, "ReadAll", reader.ReadAll(ctx, 0))
		if d := same(got, []persistence.Commit{c1, c3}); d != "" {
			t.Fatalf("ReadAll: %s", d)
		}
		s, found := readSlotBody(t, wd, 2)
		if !found || !s.Void || len(s.Intents) != 0 {
			t.Fatalf("slot 2 after the read: found %v, %+v; want a void slot", found, s)
		}

		// The late writer aims at slot 2, the hole the reader voided.
		aim(ld, 2)
		cl, err := late.Commit(ctx, attempt("b", "late", 1))
		if err != nil {
			t.Fatalf("late commit: %v", err)
		}
		if cl.Checkpoint <= c3.Checkpoint {
			t.Fatalf("late commit at checkpoint %d, not above %d, the last the reader returned", cl.Checkpoint, c3.Checkpoint)
		}
		more := all(t, "ReadAll", reader.ReadAll(ctx, c3.Checkpoint))
		if d := same(more, []persistence.Commit{cl}); d != "" {
			t.Fatalf("polling on from %d: %s", c3.Checkpoint, d)
		}
		if d := same(all(t, "ReadAll", reader.ReadAll(ctx, 0)), []persistence.Commit{c1, c3, cl}); d != "" {
			t.Fatalf("ReadAll from 0: %s", d)
		}
	})
}

// TestHeadVoidsHole: Head settles the holes below the tail before it
// answers, so that no commit lands below the checkpoint it returns.
func TestHeadVoidsHole(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		rawURL := isolatedURL(t, kind)
		w, wd := openDriver(t, rawURL)
		_, rd := openDriver(t, rawURL)
		if _, err := w.Commit(ctx, attempt("b", "w", 1)); err != nil {
			t.Fatal(err)
		}
		aim(wd, 4) // slots 2 and 3 stay holes
		c, err := w.Commit(ctx, attempt("b", "w", 2))
		if err != nil {
			t.Fatal(err)
		}
		h, err := rd.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h != c.Checkpoint {
			t.Fatalf("Head = %d, want %d", h, c.Checkpoint)
		}
		for n := int64(2); n <= 3; n++ {
			if s, found := readSlotBody(t, wd, n); !found || !s.Void {
				t.Errorf("slot %d after Head: found %v, void %v; want a void slot", n, found, s.Void)
			}
		}
	})
}

// TestWriterVoidsSkippedSlots: a writer that passed over slots voids those
// still missing once its own slot has landed (after the grace), so that
// readers seldom meet a hole.
func TestWriterVoidsSkippedSlots(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		rawURL := isolatedURL(t, kind)
		w, wd := openDriver(t, rawURL)
		if _, err := w.Commit(ctx, attempt("b", "w", 1)); err != nil {
			t.Fatal(err)
		}
		// As under contention, picking the last of the next 3 slots: 2
		// and 3 are passed over.
		wd.log.spread, wd.log.lostAt = 3, time.Now()
		wd.log.rand = func(n int64) int64 { return n - 1 }
		c, err := w.Commit(ctx, attempt("b", "w", 2))
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := slotOf(c.Checkpoint); n != 4 {
			t.Fatalf("commit in slot %d, want 4", n)
		}
		if err := w.Close(ctx); err != nil { // waits for the background voids
			t.Fatal(err)
		}
		for n := int64(2); n <= 3; n++ {
			if s, found := readSlotBody(t, wd, n); !found || !s.Void {
				t.Errorf("slot %d: found %v, void %v; want a void slot", n, found, s.Void)
			}
		}
	})
}
