package mysql

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore/persistence"
)

// plan returns the access type and key of the server's plan for query, from
// the tabular EXPLAIN: MariaDB's only plain one, and FORMAT=TRADITIONAL on
// MySQL, whose explain_format may default to TREE (one text column).
func plan(t *testing.T, e *persistence.Engine, query string, args ...any) (typ, key string) {
	t.Helper()
	for _, row := range explain(t, e, query, args...) {
		typ, key = row["type"], row["key"]
	}
	return typ, key
}

// A stream read page seeks to its first commit sequence (a range on all of
// ux_sequence) instead of scanning the stream from its start.
func TestReadStreamSeeks(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		tx, err := poolOf(t, e).BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 2000; i++ {
			a := attempt("b", "s", i)
			if _, err := tx.ExecContext(ctx, sqlOf(sqlInsertCommit), idKey("b"), idKey("s"), i, a.CommitID[:], i, 1, a.CommitStamp.UnixMicro(), "b", "s", a.Payload); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := poolOf(t, e).Exec("ANALYZE TABLE eventstore_commits"); err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			query string
			args  []any
		}{
			{sqlOf(sqlReadStream), []any{idKey("b"), idKey("s"), 1000, 0, 100}},
			{sqlOf(sqlReadStreamBounded), []any{idKey("b"), idKey("s"), 1000, 0, 1500, 100}},
		} {
			if typ, key := plan(t, e, q.query, q.args...); typ != "range" || key != keySequence {
				t.Errorf("stream read plan: %s on %q, want range on %s", typ, key, keySequence)
			}
		}
		if got := readStream(t, e, "b", "s"); len(got) != 2000 || got[1999].CommitSequence != 2000 {
			t.Fatalf("read %d commits", len(got))
		}
	})
}

// Head reads the primary key backwards from its end: no table scan, no sort.
func TestHeadPlan(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		for i := 1; i <= 50; i++ {
			if _, err := e.Commit(ctx, attempt("b", "s", i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := poolOf(t, e).Exec("ANALYZE TABLE eventstore_commits"); err != nil {
			t.Fatal(err)
		}
		if typ, key := plan(t, e, sqlOf(sqlHead)); typ != "index" || key != "PRIMARY" {
			t.Errorf("Head plan: %s on %q, want index on PRIMARY", typ, key)
		}
	})
}
