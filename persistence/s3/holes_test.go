package s3

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// openDriver opens an initialized engine on the bucket of rawURL and
// returns it with its driver, whose log the test steers.
func openDriver(t *testing.T, rawURL string) (*persistence.Engine, *engine) {
	t.Helper()
	return openDriverVia(t, rawURL, nil)
}

// openDriverVia is openDriver with the client sending through rt (nil:
// a plain transport).
func openDriverVia(t *testing.T, rawURL string, rt http.RoundTripper) (*persistence.Engine, *engine) {
	t.Helper()
	client, bucket := testClient(t, rawURL, rt, true)
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

// afterFirstLogList is a transport that calls hook once, after the first
// LIST of the log has been answered and before its answer is returned.
type afterFirstLogList struct {
	base http.RoundTripper
	once sync.Once
	hook func()
}

func (a *afterFirstLogList) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := a.base.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" && r.URL.Query().Get("prefix") == "log/" {
		a.once.Do(a.hook)
	}
	return resp, err
}

// TestReaderReadsSlotLandedInHole: a slot that lands in a hole after the
// reader listed the log, before the reader voids it, makes the reader's
// void fail; the reader reads the slot and returns its commit in order.
func TestReaderReadsSlotLandedInHole(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		rawURL := isolatedURL(t, kind)
		w, wd := openDriver(t, rawURL)
		late, ld := openDriver(t, rawURL)
		c1, err := w.Commit(ctx, attempt("b", "w", 1))
		if err != nil {
			t.Fatal(err)
		}
		aim(wd, 3)
		c3, err := w.Commit(ctx, attempt("b", "w", 2))
		if err != nil {
			t.Fatal(err)
		}
		var c2 persistence.Commit
		tr := &afterFirstLogList{base: newTransport(), hook: func() {
			aim(ld, 2)
			var err error
			if c2, err = late.Commit(ctx, attempt("b", "late", 1)); err != nil {
				t.Errorf("late commit: %v", err)
			}
		}}
		reader := faultyEngine(t, rawURL, tr, true)
		got := all(t, "ReadAll", reader.ReadAll(ctx, 0))
		if n, _ := slotOf(c2.Checkpoint); n != 2 {
			t.Fatalf("late commit in slot %d, want 2 (the hole, not yet voided)", n)
		}
		if d := same(got, []persistence.Commit{c1, c2, c3}); d != "" {
			t.Fatalf("ReadAll: %s", d)
		}
	})
}

// TestCommitAbovePredecessor: a writer whose next slot would be a hole
// below the slot of the stream's previous commit (another engine's, further
// on) writes its intent above that slot, so that a stream's commits follow
// each other in checkpoint order.
func TestCommitAbovePredecessor(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		rawURL := isolatedURL(t, kind)
		a, ad := openDriver(t, rawURL)
		b, bd := openDriver(t, rawURL)
		if _, err := b.Commit(ctx, attempt("b", "other", 1)); err != nil {
			t.Fatal(err)
		}
		aim(ad, 5)
		c1, err := a.Commit(ctx, attempt("b", "s", 1))
		if err != nil {
			t.Fatal(err)
		}
		aim(bd, 2) // a hole below slot 5
		c2, err := b.Commit(ctx, attempt("b", "s", 2))
		if err != nil {
			t.Fatal(err)
		}
		if c2.Checkpoint <= c1.Checkpoint {
			t.Fatalf("sequence 2 at checkpoint %d, not above sequence 1's %d", c2.Checkpoint, c1.Checkpoint)
		}
		on, _ := inStream(all(t, "ReadAll", b.ReadAll(ctx, 0)), "b", "s", persistence.UUID{})
		if d := same(on, []persistence.Commit{c1, c2}); d != "" {
			t.Fatalf("ReadAll: %s", d)
		}
	})
}

// countLogLists is a transport that counts the LISTs of the log.
type countLogLists struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (c *countLogLists) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" && r.URL.Query().Get("prefix") == "log/" {
		c.n.Add(1)
	}
	return c.base.RoundTrip(r)
}

// TestPassedOverSlotsShareOneList: the slots passed over by wins whose
// graces end together are voided after one LIST, not one each.
func TestPassedOverSlotsShareOneList(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		rawURL := isolatedURL(t, kind)
		counter := &countLogLists{base: newTransport()}
		e, d := openDriverVia(t, rawURL, counter)
		// Slots 1, 4 and 7 exist; 2, 3, 5 and 6 were passed over.
		for i, n := range []int64{1, 4, 7} {
			aim(d, n)
			if _, err := e.Commit(ctx, attempt("b", "s", i+1)); err != nil {
				t.Fatal(err)
			}
		}
		before := counter.n.Load()
		d.voidSkipped(1, 4, 250*time.Millisecond) // a grace of 1 s each
		d.voidSkipped(4, 7, 250*time.Millisecond)
		if err := e.Close(ctx); err != nil { // waits for the sweep
			t.Fatal(err)
		}
		if n := counter.n.Load() - before; n != 1 {
			t.Errorf("voiding two ranges passed over took %d LISTs of the log, want 1", n)
		}
		for _, n := range []int64{2, 3, 5, 6} {
			if s, found := readSlotBody(t, d, n); !found || !s.Void {
				t.Errorf("slot %d: found %v, void %v; want a void slot", n, found, s.Void)
			}
		}
		for _, n := range []int64{4, 7} {
			if s, found := readSlotBody(t, d, n); !found || s.Void {
				t.Errorf("slot %d: found %v, void %v; want the commit's slot", n, found, s.Void)
			}
		}
	})
}
