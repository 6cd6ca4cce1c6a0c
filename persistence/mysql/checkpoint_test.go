package mysql

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// beginLateCommit inserts a commit in a transaction left open, so that its
// checkpoint is taken but not visible: the late writer of the trap.
func beginLateCommit(t *testing.T, e *Engine, a *persistence.CommitAttempt) (commit, rollback func(), cp int64) {
	t.Helper()
	ctx := context.Background()
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, e.q.insertCommit, idKey(a.BucketID), idKey(a.StreamID), a.CommitSequence, a.CommitID[:],
		a.StreamRevision, a.EventCount, a.CommitStamp.UnixMicro(), a.BucketID, a.StreamID, a.Payload)
	if err != nil {
		t.Fatal(err)
	}
	cp, _ = res.LastInsertId()
	return func() {
			if err := tx.Commit(); err != nil {
				t.Error(err)
			}
		}, func() {
			if err := tx.Rollback(); err != nil {
				t.Error(err)
			}
		}, cp
}

// collect ranges over a checkpoint read in the background.
func collect(seq func(func(persistence.Commit, error) bool)) <-chan []int64 {
	out := make(chan []int64, 1)
	go func() {
		var cps []int64
		for c, err := range seq {
			if err != nil {
				cps = append(cps, -1)
				break
			}
			cps = append(cps, c.Checkpoint)
		}
		out <- cps
	}()
	return out
}

// A commit whose checkpoint was taken before a visible one, but which becomes
// visible after it, is read, in order: the reader's claim on the hole waits
// for the writer.
func TestLateCommitIsRead(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		for _, bucketRead := range []bool{false, true} {
			name := map[bool]string{false: "ReadAll", true: "ReadBucket"}[bucketRead]
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				e := openIsolated(t, isolatedURL(t, kind))
				commit, _, late := beginLateCommit(t, e, attempt("b", "late", 1))
				c, err := e.Commit(ctx, attempt("b", "early", 1))
				if err != nil {
					t.Fatal(err)
				}
				if c.Checkpoint != late+1 {
					t.Fatalf("checkpoints %d then %d", late, c.Checkpoint)
				}
				read := e.ReadAll(ctx, 0)
				if bucketRead {
					read = e.ReadBucket(ctx, "b", 0)
				}
				got := collect(read)
				select {
				case cps := <-got:
					t.Fatalf("read %v without waiting for the late commit", cps)
				case <-time.After(300 * time.Millisecond):
				}
				commit()
				cps := <-got
				if len(cps) != 2 || cps[0] != late || cps[1] != c.Checkpoint {
					t.Fatalf("read %v, want [%d %d]", cps, late, c.Checkpoint)
				}
			})
		}
	})
}

// A writer that rolls back leaves a hole the reader claims: the checkpoint
// holds a tombstone and the read goes on.
func TestRolledBackCommitIsSkipped(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		_, rollback, late := beginLateCommit(t, e, attempt("b", "late", 1))
		c, err := e.Commit(ctx, attempt("b", "early", 1))
		if err != nil {
			t.Fatal(err)
		}
		got := collect(e.ReadAll(ctx, 0))
		time.Sleep(100 * time.Millisecond)
		rollback()
		if cps := <-got; len(cps) != 1 || cps[0] != c.Checkpoint {
			t.Fatalf("read %v, want [%d]", cps, c.Checkpoint)
		}
		var tomb int
		if err := e.db.QueryRow("SELECT COUNT(*) FROM "+e.opts.TablePrefix+"commits WHERE checkpoint = ? AND stream_key IS NULL", late).Scan(&tomb); err != nil || tomb != 1 {
			t.Fatalf("checkpoint %d: %d tombstones (%v)", late, tomb, err)
		}
		// Burnt numbers (a refused duplicate) are settled the same way.
		if _, err := e.Commit(ctx, attempt("b", "early", 1)); err == nil {
			t.Fatal("duplicate sequence accepted")
		}
		c2, err := e.Commit(ctx, attempt("b", "early", 2))
		if err != nil {
			t.Fatal(err)
		}
		if cps := <-collect(e.ReadAll(ctx, c.Checkpoint)); len(cps) != 1 || cps[0] != c2.Checkpoint {
			t.Fatalf("read %v, want [%d]", cps, c2.Checkpoint)
		}
	})
}

// Writers on many streams and pollers reading from their last checkpoint:
// every poller sees every acknowledged commit exactly once, in order.
func TestConcurrentPollers(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		const writers, perWriter, pollers = 8, 40, 3
		var wg sync.WaitGroup
		acked := make(chan int64, writers*perWriter)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 1; i <= perWriter; i++ {
					bucket := []string{"x", "y"}[i%2]
					c, err := e.Commit(ctx, attempt(bucket, string(rune('a'+w)), i))
					if err != nil {
						t.Error(err)
						return
					}
					acked <- c.Checkpoint
				}
			}()
		}
		writing := make(chan struct{})
		go func() { wg.Wait(); close(writing) }()
		results := make([]map[int64]int, pollers)
		var pw sync.WaitGroup
		for p := range pollers {
			pw.Add(1)
			go func() {
				defer pw.Done()
				seen := map[int64]int{}
				var pos int64
				poll := func() {
					for c, err := range e.ReadAll(ctx, pos) {
						if err != nil {
							t.Error(err)
							return
						}
						if c.Checkpoint <= pos {
							t.Errorf("poller %d: checkpoint %d after %d", p, c.Checkpoint, pos)
						}
						pos = c.Checkpoint
						seen[c.Checkpoint]++
					}
				}
				for {
					select {
					case <-writing:
						poll()
						results[p] = seen
						return
					default:
						poll()
					}
				}
			}()
		}
		pw.Wait()
		close(acked)
		n := 0
		for cp := range acked {
			n++
			for p, seen := range results {
				if seen[cp] != 1 {
					t.Fatalf("poller %d saw checkpoint %d %d times", p, cp, seen[cp])
				}
			}
		}
		for p, seen := range results {
			if len(seen) != n {
				t.Fatalf("poller %d saw %d commits, %d were acknowledged", p, len(seen), n)
			}
		}
	})
}
