package mysql

import (
	"context"
	"fmt"
	"testing"
)

// Undispatched reads ix_undispatched, not the table: with most commits
// dispatched, the server's plan for its query uses the index.
func TestUndispatchedUsesIndex(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		var last []int64
		for i := range 300 {
			c, err := e.Commit(ctx, attempt("b", fmt.Sprint("s", i%10), i/10+1))
			if err != nil {
				t.Fatal(err)
			}
			if i%100 == 7 {
				last = append(last, c.Checkpoint)
				continue
			}
			if err := e.MarkDispatched(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := e.MarkDispatched(ctx, c); err != nil {
				t.Fatalf("marking twice: %v", err)
			}
		}
		var got []int64
		for c, err := range e.Undispatched(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, c.Checkpoint)
		}
		if fmt.Sprint(got) != fmt.Sprint(last) {
			t.Fatalf("undispatched %v, want %v", got, last)
		}
		if _, err := poolOf(t, e).Exec("ANALYZE TABLE eventstore_commits"); err != nil {
			t.Fatal(err)
		}
		if _, key := plan(t, e, sqlOf(sqlUndispatched), 0, 3); key != "ix_undispatched" {
			t.Fatalf("Undispatched query plan uses key %q, want ix_undispatched", key)
		}
	})
}
