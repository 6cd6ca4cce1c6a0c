package memory

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// TestModel drives the engine with a long random mix of commits, deletions,
// bucket purges and dispatch marks, large enough to compact every index and
// free whole log chunks, and compares every read with a plain model of the
// store after each step of a few hundred operations.
func TestModel(t *testing.T) {
	for seed := range uint64(2) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { runModel(t, seed) })
	}
}

type modelCommit struct {
	c          persistence.Commit
	deleted    bool
	dispatched bool
}

func runModel(t *testing.T, seed uint64) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 42))
	e, d := newTestEngine(t, persistence.WithPageSize(1+r.IntN(5)))
	var log []*modelCommit       // in checkpoint order
	heads := map[[2]string]int{} // stream => sequence of its last commit (0: none)
	snaps := map[[2]string]int{} // stream => latest snapshot revision
	buckets := []string{"a", "b", "c"}
	stream := func() [2]string { return [2]string{buckets[r.IntN(3)], fmt.Sprint("s", r.IntN(40))} }
	live := func(keep func(*modelCommit) bool) []persistence.Commit {
		var out []persistence.Commit
		for _, m := range log {
			if !m.deleted && keep(m) {
				out = append(out, m.c)
			}
		}
		return out
	}
	check := func(what string, seq func(func(persistence.Commit, error) bool), want []persistence.Commit) {
		t.Helper()
		var got []persistence.Commit
		for c, err := range seq {
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			got = append(got, c)
		}
		if !slices.EqualFunc(got, want, func(a, b persistence.Commit) bool {
			return a.Checkpoint == b.Checkpoint && a.CommitID == b.CommitID && a.StreamID == b.StreamID && a.BucketID == b.BucketID
		}) {
			t.Fatalf("%s: got %d commits, want %d", what, len(got), len(want))
		}
	}
	stamp := time.Unix(1700000000, 0).UTC()
	for step := range 40 {
		for range 500 {
			switch op := r.IntN(100); {
			case op < 70:
				k := stream()
				seq := heads[k] + 1
				a := &persistence.CommitAttempt{BucketID: k[0], StreamID: k[1], StreamRevision: seq, CommitSequence: seq, EventCount: 1,
					CommitID: persistence.NewUUID(), CommitStamp: stamp, Payload: []byte("x")}
				c, err := e.Commit(ctx, a)
				if err != nil {
					t.Fatal(err)
				}
				if n := len(log); n > 0 && c.Checkpoint <= log[n-1].c.Checkpoint {
					t.Fatalf("checkpoint %d after %d", c.Checkpoint, log[n-1].c.Checkpoint)
				}
				heads[k] = seq
				log = append(log, &modelCommit{c: c})
			case op < 88:
				if len(log) == 0 {
					continue
				}
				m := log[r.IntN(len(log))]
				if err := e.MarkDispatched(ctx, m.c); err != nil {
					t.Fatal(err)
				}
				m.dispatched = true
			case op < 95:
				k := stream()
				if heads[k] > 0 && r.IntN(2) == 0 {
					rev := 1 + r.IntN(heads[k])
					if err := e.AddSnapshot(ctx, persistence.Snapshot{BucketID: k[0], StreamID: k[1], StreamRevision: rev, Payload: []byte("s")}); err != nil {
						t.Fatal(err)
					}
					snaps[k] = max(snaps[k], rev)
					continue
				}
				if err := e.DeleteStream(ctx, k[0], k[1]); err != nil {
					t.Fatal(err)
				}
				for _, m := range log {
					if m.c.BucketID == k[0] && m.c.StreamID == k[1] {
						m.deleted = true
					}
				}
				delete(heads, k)
				delete(snaps, k)
			default:
				b := buckets[r.IntN(3)]
				if r.IntN(4) != 0 {
					continue
				}
				if err := e.PurgeBucket(ctx, b); err != nil {
					t.Fatal(err)
				}
				for _, m := range log {
					if m.c.BucketID == b {
						m.deleted = true
					}
				}
				for k := range heads {
					if k[0] == b {
						delete(heads, k)
						delete(snaps, k)
					}
				}
			}
		}
		what := fmt.Sprintf("step %d", step)
		check(what+": ReadAll(0)", e.ReadAll(ctx, 0), live(func(*modelCommit) bool { return true }))
		if n := len(log); n > 0 {
			after := log[r.IntN(n)].c.Checkpoint
			check(what+": ReadAll(after)", e.ReadAll(ctx, after), live(func(m *modelCommit) bool { return m.c.Checkpoint > after }))
		}
		check(what+": Undispatched", e.Undispatched(ctx), live(func(m *modelCommit) bool { return !m.dispatched }))
		for _, b := range buckets {
			check(what+": ReadBucket "+b, e.ReadBucket(ctx, b, 0), live(func(m *modelCommit) bool { return m.c.BucketID == b }))
			var want []persistence.StreamHead
			for k, h := range heads {
				if k[0] == b && h-snaps[k] >= 1 {
					want = append(want, persistence.StreamHead{BucketID: b, StreamID: k[1], HeadRevision: h, SnapshotRevision: snaps[k]})
				}
			}
			var got []persistence.StreamHead
			for h, err := range e.StreamsToSnapshot(ctx, b, 1) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, h)
			}
			cmp := func(x, y persistence.StreamHead) int {
				if x.StreamID < y.StreamID {
					return -1
				} else if x.StreamID > y.StreamID {
					return 1
				}
				return 0
			}
			slices.SortFunc(got, cmp)
			slices.SortFunc(want, cmp)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: StreamsToSnapshot(%s) = %v, want %v", what, b, got, want)
			}
		}
		n := 0
		for k := range heads { // map order: a random few
			if n++; n > 8 {
				break
			}
			check(what+": ReadStream", e.ReadStream(ctx, k[0], k[1], 0, 0), live(func(m *modelCommit) bool { return m.c.BucketID == k[0] && m.c.StreamID == k[1] }))
		}
	}
	// The indexes were compacted and whole chunks freed along the way.
	d.mu.RLock()
	defer d.mu.RUnlock()
	freed := 0
	for _, ch := range d.st.log.chunks() {
		if ch == nil {
			freed++
		}
	}
	t.Logf("%d commits, %d of %d log chunks freed, %d undispatched listed (%d dead)", len(log), freed, len(d.st.log.chunks()), len(d.st.und), d.st.log.undDead.Load())
	if freed == 0 {
		t.Errorf("no log chunk was freed")
	}
	if len(d.st.und) > 2*len(live(func(m *modelCommit) bool { return !m.dispatched }))+markCompactMin {
		t.Errorf("the undispatched list holds %d checkpoints for %d undispatched commits: not compacted", len(d.st.und), len(live(func(m *modelCommit) bool { return !m.dispatched })))
	}
}

// newTestEngine returns a new engine behind the portable layer, and its
// driver for a look at its state.
func newTestEngine(t *testing.T, opts ...persistence.Option) (*persistence.Engine, *engine) {
	t.Helper()
	d := newEngine()
	e, err := persistence.NewEngine(name, d, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e, d
}
