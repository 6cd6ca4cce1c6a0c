package mongo

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/persistence"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		in, driver, db string
		opts           map[string]string
	}{
		{"mongodb://127.0.0.1:27017/events", "mongodb://127.0.0.1:27017/events", "events", map[string]string{}},
		{"mongodb://h1:1,h2:2/?replicaSet=rs0&commits=c&snapshots=s", "mongodb://h1:1,h2:2/?replicaSet=rs0", DefaultDatabase,
			map[string]string{"commits": "c", "snapshots": "s"}},
		{"mongodb+srv://u:p@cluster.example/db?commits=x&w=majority", "mongodb+srv://u:p@cluster.example/db?w=majority", "db",
			map[string]string{"commits": "x"}},
		{"mongodb://127.0.0.1", "mongodb://127.0.0.1/", DefaultDatabase, map[string]string{}},
	}
	for _, tt := range tests {
		rest, s, err := persistence.ParseEngineSettings(tt.in, []string{optCommits, optSnapshots})
		if err != nil {
			t.Errorf("ParseEngineSettings(%q): %v", tt.in, err)
			continue
		}
		driver, db, err := parseURI(rest)
		if err != nil {
			t.Errorf("parseURI(%q): %v", rest, err)
			continue
		}
		opts := s.Engine
		if opts == nil {
			opts = map[string]string{}
		}
		if driver != tt.driver || db != tt.db || !maps.Equal(opts, tt.opts) {
			t.Errorf("parseURI(%q) = %q, %q, %v; want %q, %q, %v", tt.in, driver, db, opts, tt.driver, tt.db, tt.opts)
		}
	}
	for _, bad := range []string{"mysql://h/db", "h:27017/db", "mongodb://h/db?pageSize=7"} {
		if _, _, err := parseURI(bad); err == nil {
			t.Errorf("parseURI(%q) accepted a bad URL", bad)
		}
	}
}

// Open takes the portable parameters and the engine's own from the URL;
// options given in code win.
func TestOpenSettings(t *testing.T) {
	d, s, err := open("mongodb://127.0.0.1:1/db?commits=fromurl&snapshots=snaps&page_size=9&op_timeout=3s",
		WithCommitsCollection("fromgo"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	if s.PageSize != 9 || s.Timeout != 3*time.Second {
		t.Errorf("settings %+v, want page size 9 and timeout 3s", s)
	}
	if d.commits.Database().Name() != "db" || d.commits.Name() != "fromgo" || d.snapshots.Name() != "snaps" {
		t.Errorf("collections %s.%s and %s", d.commits.Database().Name(), d.commits.Name(), d.snapshots.Name())
	}
	for _, bad := range []struct {
		url  string
		opts []persistence.Option
	}{
		{"mongodb://127.0.0.1:1/db?pageSize=9", nil},
		{"mongodb://127.0.0.1:1/db?page_size=0", nil},
		{"mongodb://127.0.0.1:1/db?commits=", nil},
		{"mongodb://127.0.0.1:1/db?commits=a&snapshots=a", nil},
		{"mongodb://127.0.0.1:1/db", []persistence.Option{WithSnapshotsCollection("")}},
		{"mongodb://127.0.0.1:1/db", []persistence.Option{persistence.WithEngineOption("table_prefix", "t")}},
		{"mongodb://127.0.0.1:1/db?w=0", nil},
	} {
		if _, err := Open(context.Background(), bad.url, bad.opts...); !errors.Is(err, persistence.ErrInvalid) {
			t.Errorf("Open(%q): %v, want ErrInvalid", bad.url, err)
		}
	}
}

// The operation timeout bounds the driver's server selection and connect
// timeouts, unless the URL sets them.
func TestClientTimeouts(t *testing.T) {
	s, err := persistence.NewSettings(persistence.WithTimeout(1500 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	co, err := clientOptions("mongodb://127.0.0.1/", s)
	if err != nil {
		t.Fatal(err)
	}
	if *co.ServerSelectionTimeout != 1500*time.Millisecond || *co.ConnectTimeout != 1500*time.Millisecond {
		t.Errorf("server selection %v, connect %v; want 1.5s", *co.ServerSelectionTimeout, *co.ConnectTimeout)
	}
	co, err = clientOptions("mongodb://127.0.0.1/?serverSelectionTimeoutMS=7000&connectTimeoutMS=8000", s)
	if err != nil {
		t.Fatal(err)
	}
	if *co.ServerSelectionTimeout != 7*time.Second || *co.ConnectTimeout != 8*time.Second {
		t.Errorf("server selection %v, connect %v; want the URL's 7s and 8s", *co.ServerSelectionTimeout, *co.ConnectTimeout)
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
	defer e.Close(context.Background())
	if e.Name() != "mongodb" {
		t.Errorf("engine name %q", e.Name())
	}
	var db *mongo.Database
	var client *mongo.Client
	if !e.As(&db) || db.Name() != "db" || !e.As(&client) || db.Client() != client {
		t.Errorf("As: database %v, client %v", db, client)
	}
	var other *int
	if e.As(&other) {
		t.Error("As set an *int")
	}
	for _, c := range []persistence.Capability{persistence.Snapshots, persistence.Dispatch, persistence.Delete,
		persistence.Purge, persistence.Drop, persistence.Head} {
		if !e.Supports(c) {
			t.Errorf("the engine lacks capability %s", c)
		}
	}
}

// New leaves the caller's client connected on Close.
func TestNewLeavesClientConnected(t *testing.T) { eachServer(t, testNewLeavesClientConnected) }

func testNewLeavesClientConnected(t *testing.T) {
	url := isolatedURL(t)
	driverURI, database, err := parseURI(url)
	if err != nil {
		t.Fatal(err)
	}
	client, err := mongo.Connect(mustClientOptions(t, driverURI))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	if _, err := New(nil); !errors.Is(err, persistence.ErrInvalid) {
		t.Errorf("New(nil): %v, want ErrInvalid", err)
	}
	e, err := New(client.Database(database), WithCommitsCollection("c"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := e.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := client.Database(database).Collection("c").CountDocuments(ctx, map[string]any{})
	if err != nil || n != 1 {
		t.Fatalf("after Close the caller's client counted %d commits, %v", n, err)
	}
}

func mustClientOptions(t testing.TB, uri string) *options.ClientOptions {
	t.Helper()
	s, err := persistence.NewSettings()
	if err != nil {
		t.Fatal(err)
	}
	co, err := clientOptions(uri, s)
	if err != nil {
		t.Fatal(err)
	}
	return co
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
