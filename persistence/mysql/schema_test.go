package mysql

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/goeventstore/eventstore/persistence"
)

func TestSchemaVersion(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		db := poolOf(t, e)
		var v int
		if err := db.QueryRow("SELECT version FROM eventstore_schema WHERE id = 1").Scan(&v); err != nil || v != SchemaVersion {
			t.Fatalf("schema version %d (%v), want %d", v, err, SchemaVersion)
		}
		if err := e.Initialize(ctx); err != nil {
			t.Fatalf("second Initialize: %v", err)
		}
		if _, err := db.Exec("UPDATE eventstore_schema SET version = ?", SchemaVersion+1); err != nil {
			t.Fatal(err)
		}
		err := e.Initialize(ctx)
		if !errors.Is(err, persistence.ErrMisconfigured) || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("Initialize over a newer schema: %v, want ErrMisconfigured", err)
		}
	})
}

// Tables of version 1 (no schema.purged) are migrated, also when a
// migration was interrupted after its ALTER.
func TestMigrateFromV1(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		url := isolatedURL(t, kind)
		for _, interrupted := range []bool{false, true} {
			e := openIsolated(t, url)
			db := poolOf(t, e)
			if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
				t.Fatal(err)
			}
			if !interrupted {
				if _, err := db.Exec("ALTER TABLE eventstore_schema DROP COLUMN purged"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Exec("UPDATE eventstore_schema SET version = 1"); err != nil {
				t.Fatal(err)
			}
			if err := e.Initialize(ctx); err != nil {
				t.Fatalf("Initialize over version 1 (interrupted %v): %v", interrupted, err)
			}
			var v int
			var purged int64
			if err := db.QueryRow("SELECT version, purged FROM eventstore_schema WHERE id = 1").Scan(&v, &purged); err != nil || v != SchemaVersion {
				t.Fatalf("after migration: version %d (%v)", v, err)
			}
			if err := e.Purge(ctx); err != nil {
				t.Fatal(err)
			}
			if err := e.Drop(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Two prefixes in one database are two independent stores.
func TestTablePrefixes(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		url := isolatedURL(t, kind)
		a := openIsolated(t, url+"?table_prefix=a_")
		b := openIsolated(t, url, WithTablePrefix("b_"))
		if _, err := a.Commit(ctx, attempt("b", "s", 1)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Commit(ctx, attempt("b", "s", 1)); err != nil {
			t.Fatalf("same stream under another prefix: %v", err)
		}
		if err := a.Drop(ctx); err != nil {
			t.Fatal(err)
		}
		if got := readStream(t, b, "b", "s"); len(got) != 1 {
			t.Fatalf("dropping prefix a_ left prefix b_ with %d commits", len(got))
		}
		if _, err := a.Commit(ctx, attempt("b", "s", 2)); !errors.Is(err, persistence.ErrNotInitialized) {
			t.Fatalf("Commit after Drop: %v, want ErrNotInitialized", err)
		}
	})
}

// A pool whose sessions step AUTO_INCREMENT by more than 1 is refused.
func TestAutoIncrementStep(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		cfg, err := parseDSN(isolatedURL(t, kind) + "?auto_increment_increment=2")
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		e, err := New(db)
		if err != nil {
			t.Fatal(err)
		}
		err = e.Initialize(ctx)
		if !errors.Is(err, persistence.ErrMisconfigured) || !strings.Contains(err.Error(), "auto_increment_increment") {
			t.Fatalf("Initialize: %v, want ErrMisconfigured naming auto_increment_increment", err)
		}
		if err := e.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
