package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// isolatedURL returns a mysql:// URL naming a fresh database, dropped when t
// ends. TEMPORARY: replaced by testserver once it lands.
func isolatedURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("EVENTSTORE_MYSQL_URL")
	if base == "" {
		t.Skip("set EVENTSTORE_MYSQL_URL")
	}
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	cfg, _, err := ParseDSN(strings.TrimSuffix(base, "/") + "/mysql")
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := mysql.NewConnector(cfg)
	db := sql.OpenDB(conn)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Exec("DROP DATABASE " + name)
		db.Close()
	})
	return strings.TrimSuffix(base, "/") + "/" + name
}

func openIsolated(t testing.TB, url string) *Engine {
	t.Helper()
	e, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// benchURL is isolatedURL for benchmarks.
func benchURL(b *testing.B) string { return isolatedURL(b) }
