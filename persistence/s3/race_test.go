package s3

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// Several engines on one bucket stand for several processes sharing only
// the server: each has its own client and connections.

// TestTwoEnginesRaceOnOneStream: two engines commit the same sequences of
// one stream at once, with different commit IDs and with the same one.
// Exactly one wins each sequence; the loser gets ErrConcurrency, or
// ErrDuplicateCommit when it carried the winner's commit ID; a commit ID
// retried at a later sequence through the other engine is a duplicate.
func TestTwoEnginesRaceOnOneStream(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		ctx := context.Background()
		e1, e2 := openIsolated(t, rawURL), openIsolated(t, rawURL)
		const rounds = 20
		var want []persistence.UUID
		for seq := 1; seq <= rounds; seq++ {
			a1, a2 := attempt("b", "race", seq), attempt("b", "race", seq)
			sameID := seq%3 == 0
			if sameID {
				a2.CommitID, a2.Payload = a1.CommitID, a1.Payload
			}
			var err1, err2 error
			var wg sync.WaitGroup
			wg.Go(func() { _, err1 = e1.Commit(ctx, a1) })
			wg.Go(func() { _, err2 = e2.Commit(ctx, a2) })
			wg.Wait()
			loser := persistence.ErrConcurrency
			if sameID {
				loser = persistence.ErrDuplicateCommit
			}
			switch {
			case err1 == nil && errors.Is(err2, loser):
				want = append(want, a1.CommitID)
			case err2 == nil && errors.Is(err1, loser):
				want = append(want, a2.CommitID)
			default:
				t.Fatalf("sequence %d: engine 1: %v; engine 2: %v; want one success and one %v", seq, err1, err2, loser)
			}
			// The winner's ID retried at the next sequence, through both
			// engines at once: duplicates.
			winner := attempt("b", "race", seq+1)
			winner.CommitID = want[len(want)-1]
			wg.Go(func() { _, err1 = e1.Commit(ctx, winner) })
			wg.Go(func() { _, err2 = e2.Commit(ctx, winner) })
			wg.Wait()
			if !errors.Is(err1, persistence.ErrDuplicateCommit) || !errors.Is(err2, persistence.ErrDuplicateCommit) {
				t.Fatalf("commit %s retried at sequence %d: %v, %v; want ErrDuplicateCommit twice", winner.CommitID, seq+1, err1, err2)
			}
		}
		for _, e := range []*persistence.Engine{e1, e2} {
			var got []persistence.UUID
			for _, c := range all(t, "ReadStream", e.ReadStream(ctx, "b", "race", 0, 0)) {
				got = append(got, c.CommitID)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("ReadStream = %v, want %v", got, want)
			}
			on, _ := inStream(all(t, "ReadAll", e.ReadAll(ctx, 0)), "b", "race", persistence.UUID{})
			if d := same(on, all(t, "ReadStream", e.ReadStream(ctx, "b", "race", 0, 0))); d != "" {
				t.Fatalf("ReadAll and ReadStream differ: %s", d)
			}
		}
	})
}

// world is the outcome of writers racing an administrative operation.
type world struct {
	mu      sync.Mutex
	acked   map[persistence.UUID]int64 // commit ID -> checkpoint
	refused map[persistence.UUID]bool  // ErrConcurrency or ErrDuplicateCommit
	unknown map[persistence.UUID]bool  // any other error: stored or not
}

// write commits to stream through e until stop, following the stream
// after a conflict (another writer, or a deletion that restarted it).
func (w *world) write(ctx context.Context, t *testing.T, e *persistence.Engine, bucket, stream string, stop *atomic.Bool) {
	seq := 0
	for !stop.Load() {
		a := attempt(bucket, stream, seq+1)
		c, err := e.Commit(ctx, a)
		w.mu.Lock()
		switch {
		case err == nil:
			w.acked[a.CommitID] = c.Checkpoint
			seq++
		case errors.Is(err, persistence.ErrConcurrency), errors.Is(err, persistence.ErrDuplicateCommit):
			w.refused[a.CommitID] = true
		default:
			w.unknown[a.CommitID] = true
		}
		w.mu.Unlock()
		if err != nil {
			seq = 0
			for c, err := range e.ReadStream(ctx, bucket, stream, 0, 0) {
				if err != nil {
					break
				}
				seq = c.CommitSequence
			}
		}
	}
}

// poll reads e's commits from where it left off until stop, and fails on a
// checkpoint that does not increase or a commit seen twice.
func poll(ctx context.Context, t *testing.T, e *persistence.Engine, stop *atomic.Bool) []persistence.Commit {
	var seen []persistence.Commit
	ids := map[persistence.UUID]bool{}
	var after int64
	for last := false; !last; {
		last = stop.Load()
		for c, err := range e.ReadAll(ctx, after) {
			if err != nil {
				t.Errorf("polling: %v", err)
				return seen
			}
			if c.Checkpoint <= after {
				t.Errorf("polling after %d returned checkpoint %d", after, c.Checkpoint)
			}
			if ids[c.CommitID] {
				t.Errorf("polling returned commit %s twice", c.CommitID)
			}
			ids[c.CommitID] = true
			after = c.Checkpoint
			seen = append(seen, c)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return seen
}

// race runs writers in three engines (two streams each, in two buckets) and
// a polling reader, calls admin rounds times meanwhile, stops the writers,
// and checks through a fresh engine that every stream reads the same in
// ReadStream and ReadAll, that no refused commit is stored, and that what
// the reader saw before any deletion matches. It returns the world and the
// fresh engine.
func race(t *testing.T, rawURL string, rounds int, admin func(ctx context.Context, round int) error) (*world, *persistence.Engine, []persistence.Commit) {
	ctx := context.Background()
	w := &world{acked: map[persistence.UUID]int64{}, refused: map[persistence.UUID]bool{}, unknown: map[persistence.UUID]bool{}}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var streams [][2]string
	for i := range 3 {
		e := openIsolated(t, rawURL)
		for j := range 2 {
			b, s := []string{"a", "b"}[j], fmt.Sprintf("s%d", i)
			streams = append(streams, [2]string{b, s})
			wg.Go(func() { w.write(ctx, t, e, b, s, &stop) })
		}
		// A stream all three engines write to.
		wg.Go(func() { w.write(ctx, t, e, "a", "shared", &stop) })
	}
	streams = append(streams, [2]string{"a", "shared"})
	reader := openIsolated(t, rawURL)
	var seen []persistence.Commit
	var rg sync.WaitGroup
	var stopReader atomic.Bool
	rg.Go(func() { seen = poll(ctx, t, reader, &stopReader) })
	for r := range rounds {
		time.Sleep(150 * time.Millisecond)
		if err := admin(ctx, r); err != nil {
			t.Errorf("round %d: %v", r, err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	stopReader.Store(true)
	rg.Wait()
	if !increasing(seen) {
		t.Errorf("the polling reader saw checkpoints out of order")
	}
	fresh := openIsolated(t, rawURL)
	logAll := all(t, "ReadAll", fresh.ReadAll(ctx, 0))
	if !increasing(logAll) {
		t.Errorf("ReadAll out of order")
	}
	for _, bs := range streams {
		on, _ := inStream(logAll, bs[0], bs[1], persistence.UUID{})
		stream := all(t, "ReadStream", fresh.ReadStream(ctx, bs[0], bs[1], 0, 0))
		for i := 1; i < len(stream); i++ {
			if stream[i].CommitSequence <= stream[i-1].CommitSequence {
				t.Errorf("stream %s/%s: ReadStream out of sequence order", bs[0], bs[1])
			}
		}
		// A commit racing a deletion may land in the emptied stream at the
		// sequence it was built for (the contract lets an engine store an
		// attempt whose predecessor is missing): sequence and checkpoint
		// orders may then differ. Compare the commits.
		slices.SortFunc(stream, func(x, y persistence.Commit) int { return cmp.Compare(x.Checkpoint, y.Checkpoint) })
		if d := same(on, stream); d != "" {
			t.Errorf("stream %s/%s: ReadAll and ReadStream differ: %s", bs[0], bs[1], d)
		}
	}
	for _, c := range logAll {
		if w.refused[c.CommitID] {
			t.Errorf("commit %s was refused, yet it is stored", c.CommitID)
		}
		if cp, ok := w.acked[c.CommitID]; ok && cp != c.Checkpoint {
			t.Errorf("commit %s was acknowledged at checkpoint %d, is stored at %d", c.CommitID, cp, c.Checkpoint)
		}
	}
	t.Logf("%d commits acknowledged, %d refused, %d unknown; %d stored; the reader saw %d",
		len(w.acked), len(w.refused), len(w.unknown), len(logAll), len(seen))
	if len(w.acked) < 20 {
		t.Errorf("only %d commits acknowledged: the race did not race", len(w.acked))
	}
	return w, fresh, seen
}

func increasing(cs []persistence.Commit) bool {
	for i := 1; i < len(cs); i++ {
		if cs[i].Checkpoint <= cs[i-1].Checkpoint {
			return false
		}
	}
	return true
}

// TestPollingReaderWhileEnginesWrite: with no deletion, a reader polling
// from its last checkpoint sees every acknowledged commit exactly once.
func TestPollingReaderWhileEnginesWrite(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		w, fresh, seen := race(t, rawURL, 4, func(context.Context, int) error { return nil })
		logAll := all(t, "ReadAll", fresh.ReadAll(context.Background(), 0))
		stored := map[persistence.UUID]bool{}
		for _, c := range logAll {
			stored[c.CommitID] = true
		}
		for id := range w.acked {
			if !stored[id] {
				t.Errorf("acknowledged commit %s is not stored", id)
			}
		}
		// The reader polled on after the writers stopped: it saw every
		// stored commit, at its checkpoint, once, in order.
		if d := same(seen, logAll); d != "" {
			t.Errorf("the polling reader and a fresh ReadAll differ: %s", d)
		}
		// The engines contended for the log: count the holes voided.
		o, slots := logSlots(t, rawURL)
		voids := 0
		for _, k := range slots {
			body, _, _, err := o.get(context.Background(), k)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(body), `"void":true`) {
				voids++
			}
		}
		t.Logf("%d log slots, %d of them void", len(slots), voids)
	})
}

// afterAdmin checks that e, once the writers stopped and admin ran once
// more, holds nothing of the streams admin deletes, and that a new commit
// gets a checkpoint above every one handed out.
func afterAdmin(t *testing.T, e *persistence.Engine, w *world, admin func(ctx context.Context) error, bucket, stream string, gone func(c persistence.Commit) bool) {
	ctx := context.Background()
	if err := admin(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range all(t, "ReadAll", e.ReadAll(ctx, 0)) {
		if gone(c) {
			t.Errorf("commit %s of %s/%s survived the deletion", c.CommitID, c.BucketID, c.StreamID)
		}
	}
	var top int64
	for _, cp := range w.acked {
		top = max(top, cp)
	}
	c, err := e.Commit(ctx, attempt(bucket, stream, 1))
	if err != nil {
		t.Fatalf("commit after the deletion: %v", err)
	}
	if c.Checkpoint <= top {
		t.Errorf("a commit after the deletion got checkpoint %d, not above %d", c.Checkpoint, top)
	}
}

// TestDeleteStreamRacesWriters deletes the stream three engines write to,
// and another, while they write and a reader polls.
func TestDeleteStreamRacesWriters(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		admin := openIsolated(t, rawURL)
		del := func(ctx context.Context) error {
			if err := admin.DeleteStream(ctx, "a", "shared"); err != nil {
				return err
			}
			return admin.DeleteStream(ctx, "b", "s1")
		}
		w, fresh, _ := race(t, rawURL, 6, func(ctx context.Context, _ int) error { return del(ctx) })
		afterAdmin(t, fresh, w, del, "a", "shared", func(c persistence.Commit) bool {
			return (c.BucketID == "a" && c.StreamID == "shared") || (c.BucketID == "b" && c.StreamID == "s1")
		})
	})
}

// TestPurgeBucketRacesWriters purges bucket "b" while engines write to it.
func TestPurgeBucketRacesWriters(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		admin := openIsolated(t, rawURL)
		purge := func(ctx context.Context) error { return admin.PurgeBucket(ctx, "b") }
		w, fresh, _ := race(t, rawURL, 4, func(ctx context.Context, _ int) error { return purge(ctx) })
		afterAdmin(t, fresh, w, purge, "b", "s0", func(c persistence.Commit) bool { return c.BucketID == "b" })
	})
}

// TestPurgeRacesWriters purges everything while engines write.
func TestPurgeRacesWriters(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		admin := openIsolated(t, rawURL)
		purge := func(ctx context.Context) error { return admin.Purge(ctx) }
		w, fresh, _ := race(t, rawURL, 3, func(ctx context.Context, _ int) error { return purge(ctx) })
		afterAdmin(t, fresh, w, purge, "a", "s0", func(persistence.Commit) bool { return true })
	})
}

// TestDropRacesWriters drops the store under writers and readers of the
// same engine (the portable layer runs Drop alone), then
// checks that what is stored afterwards is consistent.
func TestDropRacesWriters(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		rawURL := isolatedURL(t, kind)
		ctx := context.Background()
		e := openIsolated(t, rawURL)
		var stop atomic.Bool
		w := &world{acked: map[persistence.UUID]int64{}, refused: map[persistence.UUID]bool{}, unknown: map[persistence.UUID]bool{}}
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() { w.write(ctx, t, e, "a", fmt.Sprintf("s%d", i), &stop) })
		}
		wg.Go(func() {
			for !stop.Load() {
				for _, err := range e.ReadAll(ctx, 0) {
					if err != nil && !errors.Is(err, persistence.ErrStorageUnavailable) {
						t.Errorf("ReadAll during Drop: %v", err)
						break
					}
				}
			}
		})
		for range 3 {
			time.Sleep(200 * time.Millisecond)
			if err := e.Drop(ctx); err != nil {
				t.Fatal(err)
			}
			if err := e.Initialize(ctx); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(200 * time.Millisecond)
		stop.Store(true)
		wg.Wait()
		fresh := openIsolated(t, rawURL)
		logAll := all(t, "ReadAll", fresh.ReadAll(ctx, 0))
		if !increasing(logAll) {
			t.Errorf("ReadAll out of order after Drop")
		}
		for i := range 4 {
			s := fmt.Sprintf("s%d", i)
			on, _ := inStream(logAll, "a", s, persistence.UUID{})
			if d := same(on, all(t, "ReadStream", fresh.ReadStream(ctx, "a", s, 0, 0))); d != "" {
				t.Errorf("stream %s: ReadAll and ReadStream differ after Drop: %s", s, d)
			}
			for j, c := range on {
				if c.CommitSequence != j+1 {
					t.Errorf("stream %s after Drop: sequence %d at position %d", s, c.CommitSequence, j+1)
				}
			}
		}
		for _, c := range logAll {
			if w.refused[c.CommitID] {
				t.Errorf("refused commit %s is stored", c.CommitID)
			}
		}
		t.Logf("%d acknowledged, %d stored after the last Drop", len(w.acked), len(logAll))
	})
}
