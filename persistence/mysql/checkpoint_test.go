package mysql

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// beginLateCommit inserts a commit in a transaction left open, so that its
// checkpoint is taken but not visible: the late writer of the trap.
func beginLateCommit(t *testing.T, e *persistence.Engine, a *persistence.CommitAttempt) (commit, rollback func(), cp int64) {
	t.Helper()
	ctx := context.Background()
	tx, err := poolOf(t, e).BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, sqlOf(sqlInsertCommit), idKey(a.BucketID), idKey(a.StreamID), a.CommitSequence, a.CommitID[:],
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
		if err := poolOf(t, e).QueryRow("SELECT COUNT(*) FROM eventstore_commits WHERE checkpoint = ? AND stream_key IS NULL", late).Scan(&tomb); err != nil || tomb != 1 {
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

// readAll returns the checkpoints ReadAll yields after after.
func readAll(t *testing.T, e *persistence.Engine, after int64) []int64 {
	t.Helper()
	var cps []int64
	for c, err := range e.ReadAll(context.Background(), after) {
		if err != nil {
			t.Fatal(err)
		}
		cps = append(cps, c.Checkpoint)
	}
	return cps
}

// rowCount counts the rows of the commits table, tombstones included.
func rowCount(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM eventstore_commits").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Purge hands no checkpoint out again: not at once, not after a server
// that recomputes AUTO_INCREMENT from MAX(checkpoint) (ALTER TABLE ...
// AUTO_INCREMENT = 1 does what a restart of InnoDB before MySQL 8 did), and
// a reader from 0 skips the purged range without claiming its holes.
func TestPurgeNeverReusesCheckpoints(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind), persistence.WithPageSize(2))
		db := poolOf(t, e)
		var top int64
		for i := 1; i <= 5; i++ {
			c, err := e.Commit(ctx, attempt("b", "s", i))
			if err != nil {
				t.Fatal(err)
			}
			top = c.Checkpoint
		}
		if err := e.Purge(ctx); err != nil {
			t.Fatal(err)
		}
		if cps := readAll(t, e, 0); len(cps) != 0 {
			t.Fatalf("read %v after Purge", cps)
		}
		if n := rowCount(t, db); n != 1 {
			t.Fatalf("%d rows after Purge, want the tombstone at the top only", n)
		}
		if h, err := e.Head(ctx); err != nil || h != 0 {
			t.Fatalf("Head after Purge: %d, %v; want 0", h, err)
		}
		c, err := e.Commit(ctx, attempt("b", "s", 1))
		if err != nil {
			t.Fatal(err)
		}
		if c.Checkpoint <= top {
			t.Fatalf("checkpoint %d after Purge, %d was handed out before", c.Checkpoint, top)
		}
		// Purge twice in a row, then make the server recompute AUTO_INCREMENT.
		for range 2 {
			if err := e.Purge(ctx); err != nil {
				t.Fatal(err)
			}
		}
		top = c.Checkpoint
		if _, err := db.Exec("ALTER TABLE eventstore_commits AUTO_INCREMENT = 1"); err != nil {
			t.Fatal(err)
		}
		c, err = e.Commit(ctx, attempt("b", "s", 1))
		if err != nil {
			t.Fatal(err)
		}
		if c.Checkpoint <= top {
			t.Fatalf("checkpoint %d after Purge and an AUTO_INCREMENT reset, %d was handed out before", c.Checkpoint, top)
		}
		if cps := readAll(t, e, 0); len(cps) != 1 || cps[0] != c.Checkpoint {
			t.Fatalf("read %v, want [%d]", cps, c.Checkpoint)
		}
		if h, err := e.Head(ctx); err != nil || h != c.Checkpoint {
			t.Fatalf("Head: %d, %v; want %d", h, err, c.Checkpoint)
		}
		// The purged range holds no tombstones of readers, only Purge's own.
		var tombs int
		if err := db.QueryRow("SELECT COUNT(*) FROM eventstore_commits WHERE checkpoint < ?", c.Checkpoint).Scan(&tombs); err != nil || tombs != 1 {
			t.Fatalf("%d rows below the new commit (%v), want 1", tombs, err)
		}
		// Holes above the floor are still claimed: a late commit after Purge
		// is read.
		commit, _, late := beginLateCommit(t, e, attempt("b", "late", 1))
		c2, err := e.Commit(ctx, attempt("b", "s", 2))
		if err != nil {
			t.Fatal(err)
		}
		got := collect(e.ReadAll(ctx, 0))
		time.Sleep(100 * time.Millisecond)
		commit()
		if cps := <-got; len(cps) != 3 || cps[0] != c.Checkpoint || cps[1] != late || cps[2] != c2.Checkpoint {
			t.Fatalf("read %v, want [%d %d %d]", cps, c.Checkpoint, late, c2.Checkpoint)
		}
	})
}

// Checkpoints survive a server restart after Purge (MariaDB 10.11 and
// MySQL 8 persist AUTO_INCREMENT; the tombstone Purge keeps at the top
// covers servers that recompute it).
func TestPurgeThenRestart(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		srv := testserver.Dedicated(t, kind)
		e := openIsolated(t, srv.Isolated(t))
		var top int64
		for i := 1; i <= 3; i++ {
			c, err := e.Commit(ctx, attempt("b", "s", i))
			if err != nil {
				t.Fatal(err)
			}
			top = c.Checkpoint
		}
		if err := e.Purge(ctx); err != nil {
			t.Fatal(err)
		}
		if err := srv.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(ctx); err != nil {
			t.Fatal(err)
		}
		var c persistence.Commit
		var err error
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
			c, err = e.Commit(ctx, attempt("b", "s", 1))
			if err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.Checkpoint <= top {
			t.Fatalf("checkpoint %d after Purge and a restart, %d was handed out before", c.Checkpoint, top)
		}
	})
}
