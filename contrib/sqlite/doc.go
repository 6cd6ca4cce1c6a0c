// Package sqlite is an event store engine on SQLite, through the pure-Go
// driver modernc.org/sqlite (no cgo). It lives in a module of its own and
// uses only the public API of github.com/goeventstore/eventstore: it is
// what a third party would write to add an engine, and a small one,
// because package persistence does the bookkeeping (validation, closed
// state, timeouts, paging, error wrapping) for every engine.
//
// # Using it
//
// Open a file (it is created if missing), initialize it once at start, and
// hand the engine to the store:
//
//	import (
//		"github.com/goeventstore/eventstore"
//		"github.com/goeventstore/eventstore/contrib/sqlite"
//	)
//
//	engine, err := sqlite.Open(ctx, "sqlite:///var/lib/app/events.db")
//	if err != nil {
//		return err
//	}
//	store, err := eventstore.Wireup().
//		UsingPersistence(engine). // Build initializes it; store.Close closes it
//		RegisterType("MoneyDeposited", MoneyDeposited{}).
//		Build(ctx)
//
// The import also registers the engine under the name "sqlite", so that
// persistence.OpenURL(ctx, "sqlite:///var/lib/app/events.db") and
// eventstore.Wireup().UsingURL(...) open it by URL. The portable
// parameters work in the URL as for every engine:
// sqlite:///events.db?page_size=100&op_timeout=2s. Other parameters go to
// the driver: mode=ro, _pragma=cache_size(-20000), and so on.
//
// For a database you open yourself, New takes the *sql.DB (of the driver
// "sqlite", which this package links in) and leaves it open on Close;
// Engine.As(&db), with db a *sql.DB, returns the pool of either.
//
// sqlite://:memory: opens a private in-memory database, gone with the
// engine: for tests and demos.
//
// # What it guarantees
//
// Every promise of the engine contract (package
// github.com/goeventstore/eventstore/persistence/driver), checked by the
// whole acceptance suite:
//
//   - Optimistic concurrency and idempotency by the unique keys (bucket,
//     stream, sequence) and (bucket, stream, commit_id): SQLite refuses the
//     second writer, in any process.
//   - A global order that readers can poll without ever missing a commit.
//     The checkpoint is the table's INTEGER PRIMARY KEY AUTOINCREMENT: never
//     reused, not after DeleteStream, not after Purge (sqlite_sequence keeps
//     the greatest ever handed out; only Drop forgets it).
//   - Durability: a Commit that returned is on disk (synchronous=FULL, which
//     Open sets unless the data source chooses otherwise).
//   - Several engines on one file, in one process or several on one host
//     (WAL mode): they share the write lock, and a writer waits for it up
//     to its call's timeout, then fails with ErrStorageUnavailable. Not on
//     a network file system, where SQLite's locks do not hold.
//
// # Why it needs no gap filling
//
// The contract's section "Late commits" warns about storages that hand out
// a checkpoint before the commit that uses it is visible: a reader can see
// 42 before 41 and move past 41 for good, and such engines must use
// package persistence/gapfill. SQLite is not one of them. It has one
// writer at a time (one write lock per database file, across processes),
// and an INSERT takes its AUTOINCREMENT number inside its write
// transaction: the number and the row become visible together when that
// transaction commits, and the next writer can take a number only after
// it. So commits become visible in checkpoint order, and every read
// statement sees one consistent snapshot (WAL): a page that holds 42 holds
// 41 too, or 41 will never exist. That is the "single-writer log" case that
// the contract exempts.
//
// # Schema
//
// Initialize creates, if missing (the DDL, with the reason for each index,
// is in schema.go):
//
//	eventstore_commits    checkpoint INTEGER PRIMARY KEY AUTOINCREMENT,
//	                      bucket, stream, sequence, commit_id, revision,
//	                      items, stamp, dispatched, payload
//	                      UNIQUE (bucket, stream, sequence)
//	                      UNIQUE (bucket, stream, commit_id)
//	                      INDEX (bucket, checkpoint)
//	                      INDEX (checkpoint) WHERE dispatched = 0
//	eventstore_snapshots  bucket, stream, revision, payload
//	                      PRIMARY KEY (bucket, stream, revision)
//
// The tables can share a file with an application's own. Drop removes
// them.
package sqlite
