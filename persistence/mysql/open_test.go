package mysql

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		in                   string
		user, pass, addr, db string
		prefix               string
		timeout              time.Duration
	}{
		{in: "mysql://root@127.0.0.1:3307/events", user: "root", addr: "127.0.0.1:3307", db: "events"},
		{in: "mysql://u:p%40ss%2Fw@db.example:3306/ev?table_prefix=es_&timeout=3s",
			user: "u", pass: "p@ss/w", addr: "db.example:3306", db: "ev", prefix: "es_", timeout: 3 * time.Second},
		{in: "mysql://u@localhost/ev", user: "u", addr: "localhost:3306", db: "ev"},
		{in: "mysql://u@[::1]/ev", user: "u", addr: "[::1]:3306", db: "ev"},
		{in: "u:p@tcp(127.0.0.1:3306)/ev?table_prefix=x_&timeout=2s",
			user: "u", pass: "p", addr: "127.0.0.1:3306", db: "ev", prefix: "x_", timeout: 2 * time.Second},
	} {
		rest, s, err := persistence.ParseEngineSettings(tc.in, []string{optTablePrefix})
		if err != nil {
			t.Errorf("ParseEngineSettings(%q): %v", tc.in, err)
			continue
		}
		cfg, err := parseDSN(rest)
		if err != nil {
			t.Errorf("parseDSN(%q): %v", rest, err)
			continue
		}
		got, _ := s.String(optTablePrefix)
		if cfg.User != tc.user || cfg.Passwd != tc.pass || cfg.Addr != tc.addr || cfg.DBName != tc.db ||
			got != tc.prefix || cfg.Timeout != tc.timeout {
			t.Errorf("parseDSN(%q) = %s:%s@%s/%s timeout %v, prefix %q", tc.in, cfg.User, cfg.Passwd, cfg.Addr, cfg.DBName, cfg.Timeout, got)
		}
		if _, ok := cfg.Params["table_prefix"]; ok {
			t.Errorf("parseDSN(%q) passes table_prefix to the driver", tc.in)
		}
	}
	ctx := context.Background()
	for _, bad := range []string{
		"mysql://u@h:3306/",                                   // no database
		"mysql://u@h/ev?table_prefix=a;DROP",                  // injection through the prefix
		"mysql://u@h/ev?table_prefix=a%60b",                   // a backquote
		"mysql://u@h/ev?table_prefix=",                        // empty
		"mysql://u@h/ev?page_size=-1",                         // bad page size
		"u@tcp(h)/ev?table_prefix=1abc",                       // starts with a digit
		"u@tcp(h)/ev?table_prefix=" + strings.Repeat("a", 33), // too long
	} {
		if _, err := Open(ctx, bad); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("Open(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

// The data source's parameters configure the engine, options in code win,
// and the engine is registered under "mysql".
func TestOpenSettings(t *testing.T) {
	ctx := context.Background()
	e, err := persistence.OpenURL(ctx, "mysql://root@127.0.0.1:1/events?table_prefix=t_&page_size=7&op_timeout=3s")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if s := e.Settings(); s.PageSize != 7 || s.Timeout != 3*time.Second || s.Engine["table_prefix"] != "t_" {
		t.Fatalf("settings %+v", s)
	}
	if got := e.String(); !strings.Contains(got, "t_commits") {
		t.Fatalf("String() = %q", got)
	}
	e2, err := persistence.Open(ctx, "mysql", "root@tcp(127.0.0.1:1)/events?table_prefix=x_&page_size=7",
		WithTablePrefix("y_"), persistence.WithPageSize(9))
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close(ctx)
	if s := e2.Settings(); s.PageSize != 9 || s.Engine["table_prefix"] != "y_" {
		t.Fatalf("options in code lost to the DSN: %+v", s)
	}
	e3, err := Open(ctx, "root@tcp(127.0.0.1:1)/events")
	if err != nil {
		t.Fatal(err)
	}
	defer e3.Close(ctx)
	if got := e3.String(); !strings.Contains(got, DefaultTablePrefix+"commits") || e3.Settings().PageSize != persistence.DefaultPageSize {
		t.Fatalf("defaults: %q, %+v", got, e3.Settings())
	}
	for _, c := range []persistence.Capability{persistence.Snapshots, persistence.Dispatch, persistence.Delete,
		persistence.Purge, persistence.Drop, persistence.Head} {
		if !e3.Supports(c) {
			t.Errorf("no %s capability", c)
		}
	}
	if e3.Supports(persistence.InProcessValue) {
		t.Error("claims in-process values")
	}
	if _, err := Open(ctx, "root@tcp(127.0.0.1:1)/events", WithTablePrefix("a b")); !errors.Is(err, persistence.ErrInvalid) {
		t.Errorf("bad prefix in code: %v, want ErrInvalid", err)
	}
}

// Nothing listens on port 1: every call fails with ErrStorageUnavailable,
// wrapping the driver's error.
func TestUnreachableServer(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, "mysql://root@127.0.0.1:1/events?timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if err := e.Initialize(ctx); !errors.Is(err, persistence.ErrStorageUnavailable) {
		t.Fatalf("Initialize: %v, want ErrStorageUnavailable", err)
	}
	_, err = e.Commit(ctx, attempt("b", "s", 1))
	if !errors.Is(err, persistence.ErrStorageUnavailable) {
		t.Fatalf("Commit: %v, want ErrStorageUnavailable", err)
	}
	var se *persistence.StreamError
	if !errors.As(err, &se) || se.StreamID != "s" {
		t.Fatalf("Commit error %v does not name the stream", err)
	}
	for _, err := range e.ReadAll(ctx, 0) {
		if !errors.Is(err, persistence.ErrStorageUnavailable) {
			t.Fatalf("ReadAll: %v, want ErrStorageUnavailable", err)
		}
	}
}

// New takes a pool the caller owns: As returns it, Close leaves it open.
func TestNew(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		if _, err := New(nil); !errors.Is(err, persistence.ErrInvalid) {
			t.Fatalf("New(nil): %v, want ErrInvalid", err)
		}
		cfg, err := parseDSN(isolatedURL(t, kind))
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := New(db, WithTablePrefix("9a")); !errors.Is(err, persistence.ErrInvalid) {
			t.Fatalf("bad prefix: %v, want ErrInvalid", err)
		}
		e, err := New(db, WithTablePrefix("n_"))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Initialize(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
			t.Fatal(err)
		}
		var got *sql.DB
		if !e.As(&got) || got != db {
			t.Fatal("As(**sql.DB) does not return the pool")
		}
		var asDB DB
		if !e.As(&asDB) || asDB != DB(db) {
			t.Fatal("As(*DB) does not return the pool")
		}
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM n_commits").Scan(&n); err != nil || n != 1 {
			t.Fatalf("n_commits holds %d rows (%v)", n, err)
		}
		if err := e.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.PingContext(ctx); err != nil {
			t.Fatalf("Close closed a pool it does not own: %v", err)
		}
	})
}
