// Command ferretdb runs FerretDB v1.24.0 embedded with its SQLite handler: a MongoDB wire-protocol
// server for the engine tests on machines where no MongoDB image can be had.
//
// It is its own module so that FerretDB's dependencies stay out of the library's go.mod. It exists
// because `go install github.com/FerretDB/FerretDB/cmd/ferretdb` builds a binary that panics at start
// (its version file is empty outside FerretDB's own build); the embeddable package works.
//
// Usage:
//
//	ferretdb [-listen 0.0.0.0:27017] [-dir /data]
//
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
	dir := flag.String("dir", "/data", "directory of the SQLite databases")
	level := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.Parse()

	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))

	abs, err := filepath.Abs(*dir)
	if err != nil {
		fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		fatal(err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    log,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	// Run listens before it serves; the address is known once New returned.
	fmt.Fprintf(os.Stderr, "ferretdb: Waiting for connections on %s (sqlite in %s)\n", *listen, abs)
	if err := <-done; err != nil && ctx.Err() == nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ferretdb:", err)
	os.Exit(1)
}
