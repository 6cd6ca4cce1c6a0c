package mongo

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/goeventstore/eventstore/persistence"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		in, driver, db string
		opts           Options
	}{
		{"mongodb://127.0.0.1:27017/events", "mongodb://127.0.0.1:27017/events", "events",
			Options{Commits: DefaultCommits, Snapshots: DefaultSnapshots, PageSize: DefaultPageSize}},
		{"mongodb://h1:1,h2:2/?replicaSet=rs0&commits=c&snapshots=s&pageSize=7", "mongodb://h1:1,h2:2/?replicaSet=rs0", DefaultDatabase,
			Options{Commits: "c", Snapshots: "s", PageSize: 7}},
		{"mongodb+srv://u:p@cluster.example/db?commits=x&w=majority", "mongodb+srv://u:p@cluster.example/db?w=majority", "db",
			Options{Commits: "x", Snapshots: DefaultSnapshots, PageSize: DefaultPageSize}},
		{"mongodb://127.0.0.1", "mongodb://127.0.0.1/", DefaultDatabase,
			Options{Commits: DefaultCommits, Snapshots: DefaultSnapshots, PageSize: DefaultPageSize}},
	}
	for _, tt := range tests {
		driver, db, opts, err := parseURI(tt.in, Options{})
		if err != nil {
			t.Errorf("parseURI(%q): %v", tt.in, err)
			continue
		}
		if driver != tt.driver || db != tt.db || opts != tt.opts {
			t.Errorf("parseURI(%q) = %q, %q, %+v; want %q, %q, %+v", tt.in, driver, db, opts, tt.driver, tt.db, tt.opts)
		}
	}
	// Go options win over the query.
	_, _, opts, err := parseURI("mongodb://h/db?commits=fromurl&pageSize=9", Options{Commits: "fromgo"})
	if err != nil || opts.Commits != "fromgo" || opts.PageSize != 9 {
		t.Errorf("Options did not win over the query: %+v, %v", opts, err)
	}
	for _, bad := range []string{"mysql://h/db", "h:27017/db", "mongodb://h/db?pageSize=0", "mongodb://h/db?pageSize=x"} {
		if _, _, _, err := parseURI(bad, Options{}); err == nil {
			t.Errorf("parseURI(%q) accepted a bad URL", bad)
		}
	}
}

func TestOpenURLRegistered(t *testing.T) {
	// mongodb+srv is registered too, but opening it resolves DNS: only
	// check the registration.
	if !slices.Contains(persistence.Engines(), "mongodb+srv") {
		t.Errorf("mongodb+srv is not registered: %v", persistence.Engines())
	}
	// Connecting is lazy: nothing is dialled here.
	const u = "mongodb://127.0.0.1:1/db?commits=c&snapshots=s"
	e, err := persistence.OpenURL(context.Background(), u)
	if err != nil {
		t.Fatalf("OpenURL(%q): %v", u, err)
	}
	me, ok := e.(*Engine)
	if !ok {
		t.Fatalf("OpenURL(%q) returned %T", u, e)
	}
	defer me.Close(context.Background())
	if me.commits.Database().Name() != "db" || me.commits.Name() != "c" || me.snapshots.Name() != "s" {
		t.Errorf("OpenURL(%q): collections %s.%s and %s", u, me.commits.Database().Name(), me.commits.Name(), me.snapshots.Name())
	}
}

func TestOpenRefusesUnacknowledgedWrites(t *testing.T) {
	_, err := Open(context.Background(), "mongodb://127.0.0.1:1/db?w=0", nil)
	if !errors.Is(err, persistence.ErrInvalid) {
		t.Fatalf("Open with w=0: %v, want ErrInvalid", err)
	}
}

func TestDuplicateIndexName(t *testing.T) {
	msg := `E11000 duplicate key error collection: db.commits index: stream_commit dup key: { key: "ab", commitId: UUID("x") }`
	if m := dupIndexRe.FindStringSubmatch(msg); m == nil || m[1] != idxCommitID {
		t.Errorf("index name not found in %q: %v", msg, m)
	}
	if m := dupIndexRe.FindStringSubmatch(`E11000 duplicate key error collection: db.commits`); m != nil {
		t.Errorf("found an index name in FerretDB's message: %v", m)
	}
}
