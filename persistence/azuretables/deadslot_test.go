package azuretables

import (
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// TestDeadWriterSlotHidesNoAcknowledgedCommit: a writer process dies
// between its two requests (its log slot stays undecided), then another
// engine instance commits after it (a later slot) and Commit acknowledges.
// A third instance, at once (well within resolve_after), must find the
// acknowledged commit in ReadAll and in Undispatched: an undecided slot of
// a dead writer may delay readers, but must not end their read early (the
// portable layer takes a short page for "nothing more"). This is what the
// multi-process crash test (internal/crashtest) found: a ReadAll or a
// redispatch right after a writer was killed missed every commit after the
// killed writer's slot.
func TestDeadWriterSlotHidesNoAcknowledgedCommit(t *testing.T) {
	ctx := t.Context()
	url := isolatedURL(t)
	const grace = 2 * time.Second
	acked, start := deadWriterSlot(t, url, grace)
	reader := instances(t, url, 1, WithResolveAfter(grace))[0]
	found := false
	for _, c := range readAll(t, reader, 0) {
		found = found || c.CommitID == acked.CommitID
	}
	if !found {
		t.Errorf("ReadAll %v after the acknowledged commit %d (checkpoint %d): not there", time.Since(start), acked.CommitSequence, acked.Checkpoint)
	}
	found = false
	for c, err := range reader.Undispatched(ctx) {
		if err != nil {
			t.Fatalf("Undispatched: %v", err)
		}
		found = found || c.CommitID == acked.CommitID
	}
	if !found {
		t.Errorf("Undispatched %v after the acknowledged commit (checkpoint %d): not there", time.Since(start), acked.Checkpoint)
	}
	if all := readAll(t, reader, 0); len(all) != 3 {
		t.Errorf("ReadAll: %d commits, want 3 (the dead writer's slot aborted)", len(all))
	}
}

// TestReadOutlastsItsCalls: a reader whose operation timeout is too short
// to wait out a dead writer's slot in one call (each call waits only while
// a quarter of its time is left) ends its page there with
// driver.ErrPageCut, and the read goes on in new calls until the slot is
// old enough to abort: ReadAll finds the acknowledged commit after it,
// where before the read ended at the slot, as if nothing followed.
func TestReadOutlastsItsCalls(t *testing.T) {
	url := isolatedURL(t)
	const grace = 2 * time.Second
	acked, start := deadWriterSlot(t, url, grace)
	reader := instances(t, url, 1, WithResolveAfter(grace), persistence.WithTimeout(time.Second))[0]
	all := readAll(t, reader, 0)
	took := time.Since(start)
	if len(all) != 3 || all[2].CommitID != acked.CommitID {
		t.Fatalf("ReadAll with 1 s calls, %v after the acknowledged commit: %d commits, want 3 ending with it", took, len(all))
	}
	t.Logf("ReadAll with 1 s calls behind a dead writer's slot (resolve_after %v): %v", grace, took)
}

// deadWriterSlot commits a commit, then one that dies between its two
// requests (its log slot stays undecided), then one after it, and returns
// that last, acknowledged commit and when it was made.
func deadWriterSlot(t *testing.T, url string, grace time.Duration) (persistence.Commit, time.Time) {
	t.Helper()
	ctx := t.Context()
	writer := instances(t, url, 1, WithResolveAfter(grace))[0]
	if _, err := writer.Commit(ctx, attempt("b", "before", 1)); err != nil {
		t.Fatal(err)
	}

	f := &fault{base: newGuard(t, nil)}
	dying, _ := openWith(t, url, f, -1, WithResolveAfter(grace))
	if _, err := dying.Commit(ctx, attempt("b", "dying", 1)); err != nil { // finds the end of the log: its next slot is known
		t.Fatal(err)
	}
	time.Sleep(3 * markDelay) // its cached decision goes out
	f.arm("stop", 2)          // the log batch goes out, the stream batch and all after do not
	if _, err := dying.Commit(ctx, attempt("b", "dying", 2)); err == nil {
		t.Fatal("the dying writer's commit succeeded")
	}
	if n, _ := f.sent(); n < 2 {
		t.Fatalf("the dying writer sent %d requests, want its log batch and a failed stream batch", n)
	}
	dying.Close(ctx)

	start := time.Now()
	acked, err := writer.Commit(ctx, attempt("b", "after", 1))
	if err != nil {
		t.Fatal(err)
	}
	return acked, start
}
