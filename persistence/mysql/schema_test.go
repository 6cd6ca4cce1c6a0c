package mysql

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

func TestSchemaVersion(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		e := openIsolated(t, isolatedURL(t, kind))
		var v int
		if err := e.db.QueryRow("SELECT version FROM eventstore_schema WHERE id = 1").Scan(&v); err != nil || v != SchemaVersion {
			t.Fatalf("schema version %d (%v), want %d", v, err, SchemaVersion)
		}
		if err := e.Initialize(ctx); err != nil {
			t.Fatalf("second Initialize: %v", err)
		}
		if _, err := e.db.Exec("UPDATE eventstore_schema SET version = ?", SchemaVersion+1); err != nil {
			t.Fatal(err)
		}
		if err := e.Initialize(ctx); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("Initialize over a newer schema: %v, want a refusal", err)
		}
	})
}

// Two prefixes in one database are two independent stores.
func TestTablePrefixes(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		url := isolatedURL(t, kind)
		a := openIsolated(t, url+"?table_prefix=a_")
		b := openIsolated(t, url+"?table_prefix=b_")
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
	})
}

// A pool whose sessions step AUTO_INCREMENT by more than 1 is refused.
func TestAutoIncrementStep(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		url := isolatedURL(t, kind)
		cfg, _, err := ParseDSN(url + "?auto_increment_increment=2")
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		e, err := NewDB(db, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Initialize(ctx); err == nil || !strings.Contains(err.Error(), "auto_increment_increment") {
			t.Fatalf("Initialize: %v, want a refusal naming auto_increment_increment", err)
		}
		if err := e.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.PingContext(ctx); err != nil {
			t.Fatalf("Close closed a pool it does not own: %v", err)
		}
	})
}
