package testserver

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/go-sql-driver/mysql"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// The smoke tests write and read one record on each server with that engine's Go driver, through
// the URL Isolated returns.

func TestMySQL(t *testing.T) { testSQL(t, MySQL, "MariaDB", false) }

func TestMariaDB(t *testing.T) { testSQL(t, MariaDB, "MariaDB", true) }

// testSQL runs the smoke test on a server of kind and checks that its version string contains
// marker (or does not), so that the two kinds are never the same server.
func testSQL(t *testing.T, kind, marker string, want bool) {
	t.Parallel()
	db := openSQL(t, Get(t, kind).Isolated(t))
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (1, 'one')"); err != nil {
		t.Fatal(err)
	}
	_, err := db.ExecContext(ctx, "INSERT INTO t VALUES (1, 'again')")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1062 {
		t.Fatalf("duplicate insert: got %v, want error 1062", err)
	}
	var v string
	if err := db.QueryRowContext(ctx, "SELECT v FROM t WHERE id = 1").Scan(&v); err != nil || v != "one" {
		t.Fatalf("read back %q, %v; want \"one\"", v, err)
	}
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(version, marker) != want {
		t.Fatalf("%s server is version %q", kind, version)
	}
}

func TestMongo(t *testing.T) { testMongo(t, Mongo) }

func TestFerretPG(t *testing.T) { testMongo(t, FerretPG) }

func testMongo(t *testing.T, kind string) {
	t.Parallel()
	coll := openMongoColl(t, Get(t, kind).Isolated(t))
	ctx := t.Context()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: "one"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("duplicate insert: got %v, want a duplicate key error", err)
	}
	var doc struct{ V string }
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&doc); err != nil || doc.V != "one" {
		t.Fatalf("read back %q, %v; want \"one\"", doc.V, err)
	}
}

func TestAzure(t *testing.T) {
	t.Parallel()
	svc, table, err := azureClient(Get(t, Azure).Isolated(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := svc.CreateTable(ctx, table, nil); err != nil {
		t.Fatal(err)
	}
	c := svc.NewClient(table)
	ent := []byte(`{"PartitionKey":"p","RowKey":"1","V":"one"}`)
	if _, err := c.AddEntity(ctx, ent, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.AddEntity(ctx, ent, nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 409 {
		t.Fatalf("duplicate insert: got %v, want 409", err)
	}
	got, err := c.GetEntity(ctx, "p", "1", nil)
	if err != nil || !bytes.Contains(got.Value, []byte(`"V":"one"`)) {
		t.Fatalf("read back %s, %v; want V one", got.Value, err)
	}
}

// TestIsolated checks that two tests' storage on one server are apart, and that cleanup removes it.
func TestIsolated(t *testing.T) {
	t.Parallel()
	s := Get(t, MySQL)
	var name string
	t.Run("first", func(t *testing.T) {
		u := s.Isolated(t)
		db := openSQL(t, u)
		if _, err := db.ExecContext(t.Context(), "CREATE TABLE x (id INT)"); err != nil {
			t.Fatal(err)
		}
		pu, _ := url.Parse(u)
		name = pu.Path[1:]
	})
	db := openSQL(t, s.Isolated(t))
	var n int
	err := db.QueryRowContext(t.Context(),
		"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n)
	if err != nil || n != 0 {
		t.Fatalf("database %s of an ended test: count %d, %v; want removed", name, n, err)
	}
}

// TestDedicatedRestart checks that a dedicated server keeps its URL and data across Stop and Start.
func TestDedicatedRestart(t *testing.T) {
	t.Parallel()
	s := Dedicated(t, Mongo)
	coll := openMongoColl(t, s.Isolated(t))
	ctx := t.Context()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.admin.ping(ctx); err == nil {
		t.Fatal("stopped server answers a ping")
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Fatalf("after restart: %d documents, %v; want 1", n, err)
	}
}

func openSQL(t *testing.T, rawURL string) *sql.DB {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := mysqlConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

func openMongoColl(t *testing.T, rawURL string) *mongo.Collection {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(rawURL))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c.Database(u.Path[1:]).Collection("smoke")
}
