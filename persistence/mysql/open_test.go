package mysql

import (
	"context"
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
		pageSize             int
		timeout              time.Duration
	}{
		{in: "mysql://root@127.0.0.1:3307/events", user: "root", addr: "127.0.0.1:3307", db: "events"},
		{in: "mysql://u:p%40ss%2Fw@db.example:3306/ev?table_prefix=es_&page_size=64&timeout=3s",
			user: "u", pass: "p@ss/w", addr: "db.example:3306", db: "ev", prefix: "es_", pageSize: 64, timeout: 3 * time.Second},
		{in: "mysql://u@localhost/ev", user: "u", addr: "localhost:3306", db: "ev"},
		{in: "mysql://u@[::1]/ev", user: "u", addr: "[::1]:3306", db: "ev"},
		{in: "u:p@tcp(127.0.0.1:3306)/ev?table_prefix=x_&page_size=7&timeout=2s",
			user: "u", pass: "p", addr: "127.0.0.1:3306", db: "ev", prefix: "x_", pageSize: 7, timeout: 2 * time.Second},
	} {
		cfg, opts, err := ParseDSN(tc.in)
		if err != nil {
			t.Errorf("ParseDSN(%q): %v", tc.in, err)
			continue
		}
		if cfg.User != tc.user || cfg.Passwd != tc.pass || cfg.Addr != tc.addr || cfg.DBName != tc.db ||
			opts.TablePrefix != tc.prefix || opts.PageSize != tc.pageSize || cfg.Timeout != tc.timeout {
			t.Errorf("ParseDSN(%q) = %s:%s@%s/%s timeout %v, %+v", tc.in, cfg.User, cfg.Passwd, cfg.Addr, cfg.DBName, cfg.Timeout, opts)
		}
		if _, ok := cfg.Params["table_prefix"]; ok {
			t.Errorf("ParseDSN(%q) passes table_prefix to the driver", tc.in)
		}
	}
	for _, bad := range []string{
		"mysql://u@h:3306/",                                   // no database
		"mysql://u@h/ev?table_prefix=a;DROP",                  // injection through the prefix
		"mysql://u@h/ev?table_prefix=a%60b",                   // a backquote
		"mysql://u@h/ev?page_size=-1",                         // bad page size
		"u@tcp(h)/ev?table_prefix=1abc",                       // starts with a digit
		"u@tcp(h)/ev?table_prefix=" + strings.Repeat("a", 33), // too long
	} {
		if _, _, err := ParseDSN(bad); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("ParseDSN(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

func TestRegisteredAndOpenURL(t *testing.T) {
	e, err := persistence.OpenURL(context.Background(), "mysql://root@127.0.0.1:1/events?table_prefix=t_")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	if got := e.(*Engine).Options().TablePrefix; got != "t_" {
		t.Fatalf("prefix %q", got)
	}
	e2, err := persistence.Open(context.Background(), "mysql", "root@tcp(127.0.0.1:1)/events")
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close(context.Background())
	if got := e2.(*Engine).Options(); got.TablePrefix != DefaultTablePrefix || got.PageSize != DefaultPageSize {
		t.Fatalf("defaults %+v", got)
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

func TestOptionsValidation(t *testing.T) {
	for _, p := range []string{"a b", "a`b", "a;b", "ü", "a-b", "9a"} {
		if _, err := NewDB(nil, Options{TablePrefix: p}); err == nil {
			t.Errorf("nil DB accepted")
		}
		if _, err := (Options{TablePrefix: p}).withDefaults(); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("prefix %q: %v, want ErrInvalid", p, err)
		}
	}
}
