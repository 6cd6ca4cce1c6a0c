// Command ferretdb runs FerretDB v1.24.0 embedded, with its SQLite handler (the default) or its
// PostgreSQL handler: a MongoDB wire-protocol server for the engine tests on machines where no MongoDB
// image can be had.
//
// It is its own module so that FerretDB's dependencies stay out of the library's go.mod. It exists
// because `go install github.com/FerretDB/FerretDB/cmd/ferretdb` builds a binary that panics at start
// (its version file is empty outside FerretDB's own build); the embeddable package works.
//
// Usage:
//
//	ferretdb [-listen 0.0.0.0:27017] [-dir /data]
//	ferretdb [-listen 0.0.0.0:27017] -handler postgresql [-postgresql-url postgres://postgres@127.0.0.1:5432/postgres]
//
// With the PostgreSQL handler, FerretDB keeps each MongoDB database as a schema of the PostgreSQL
// database the URL names, and pushes filters and sorts down to PostgreSQL, which uses its indexes.
// It logs "Waiting for connections" once it accepts clients, and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "0.0.0.0:27017", "TCP address to listen on")
	handler := flag.String("handler", "sqlite", "backend: sqlite or postgresql")
	dir := flag.String("dir", "/data", "directory of the SQLite databases (sqlite handler)")
	pgURL := flag.String("postgresql-url", "postgres://postgres@127.0.0.1:5432/postgres", "PostgreSQL database (postgresql handler)")
	level := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.Parse()

	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))

	cfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   log,
		Handler:  *handler,
	}
	where := ""
	switch *handler {
	case "sqlite":
		abs, err := filepath.Abs(*dir)
		if err != nil {
			fatal(err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			fatal(err)
		}
		cfg.SQLiteURL = "file:" + abs + "/"
		where = "sqlite in " + abs
	case "postgresql":
		cfg.PostgreSQLURL = *pgURL
		where = "postgresql at " + *pgURL
	default:
		fatal(fmt.Errorf("-handler %q: want sqlite or postgresql", *handler))
	}
	f, err := ferretdb.New(cfg)
	if err != nil {
		fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	// Run listens before it serves; the address is known once New returned.
	fmt.Fprintf(os.Stderr, "ferretdb: Waiting for connections on %s (%s)\n", *listen, where)
	if err := <-done; err != nil && ctx.Err() == nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ferretdb:", err)
	os.Exit(1)
}
