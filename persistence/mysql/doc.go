// Package mysql is the event store engine for Oracle MySQL 8.0.20 and later
// (tested on 9.7) and MariaDB 10.11 and later, built on database/sql and
// github.com/go-sql-driver/mysql. Its tests run on both servers and fail on
// any warning the server gives for a statement the engine sends.
//
// Link it in with a blank import; it registers itself as "mysql":
//
//	import _ "github.com/goeventstore/eventstore/persistence/mysql"
//
//	store, err := eventstore.Wireup().UsingMySQL("user:pass@tcp(127.0.0.1:3306)/events").Build(ctx)
//
// [Open] takes a go-sql-driver DSN or a URL
// mysql://user:pass@host:port/db?table_prefix=es_&page_size=512 and options
// ([WithTablePrefix] and package persistence's); [New] wraps a pool the
// caller already has. Both return a *persistence.Engine, whose As gives back
// the *sql.DB.
//
// # Storage
//
// Three tables, named with a validated prefix (default "eventstore_"):
// commits, snapshots and schema (the schema version, for migrations, and the
// purge floor). A commit is one row; its events and headers are one opaque
// payload column. Bucket and stream IDs may be up to 1000 characters of any
// Unicode, too long for an index key, so the keys hold a 20-byte SHA-256
// prefix of each ID (bucket_key, stream_key) and the originals are stored
// beside them, as NEventStore does with its StreamId hash. See schema.go for
// the tables and indexes.
//
// # Concurrency and idempotency
//
// The database enforces both, with unique keys on (bucket_key, stream_key,
// commit_sequence) and (bucket_key, stream_key, commit_id). A commit is a
// single autocommit INSERT: one round trip. See commit.go for how the
// duplicate-key error (1062) is told apart.
//
// # Checkpoints
//
// The checkpoint is the commits table's AUTO_INCREMENT primary key. InnoDB
// hands a number out before the row becomes visible, and burns numbers on
// failed inserts, so readers can see holes that may still fill. Readers close
// every hole between two visible checkpoints with package gapfill: they
// insert a tombstone row at the missing checkpoint. If that insert succeeds,
// the number is dead: a writer still holding it gets a duplicate key on
// PRIMARY and retries its INSERT with a new number, which lies beyond
// everything read so far. If it fails with a duplicate key, the row exists
// (InnoDB made the insert wait for the writer's row lock) and is read. So
// ReadAll and ReadBucket never skip a commit that becomes visible late, and
// writers are never serialized. See read.go.
//
// Readers therefore write (tombstones): they need INSERT privilege and the
// primary, not a replica. DeleteStream and PurgeBucket turn rows into
// tombstones rather than deleting them, so that no hole is ever left for a
// reader to fill. Purge deletes the rows but keeps a tombstone at the
// highest checkpoint and records it as the purge floor, below which readers
// claim no hole: no checkpoint is ever handed out twice, not even by a server
// that recomputes AUTO_INCREMENT from MAX(checkpoint) at restart (see
// delete.go). Multi-primary setups (Galera, group replication in
// multi-primary mode) are not supported: the lock wait that makes a
// tombstone insert safe happens on one server only.
//
// # Paging
//
// The paged reads of a stream, of Undispatched and of StreamsToSnapshot seek
// to their position on an index and stop after the page, so that a page
// costs the same near the start as near the end of a large table (ReadAll
// pages are ranges of the primary key; see readBucket in read.go for bucket
// reads): a stream page is a range on ux_sequence, a page of
// Undispatched a range on ix_undispatched (flag and checkpoint), and a page
// of StreamsToSnapshot walks ux_sequence from the cursor one stream at a
// time (it reads every index entry of the page's streams, then one row per
// head).
// Where a server's planner would otherwise pick a plan that grows with the
// table, the statement forces its index. TestReadStreamSeeks asserts the
// first plan, TestPlansAtScale the other two at 100,000 rows, on both
// servers; BenchmarkPages measures a page at each end (see
// bench_scale_test.go).
//
// # Errors
//
// Server errors are classified by number (see Classify in errors.go): access
// denied (1044, 1045, 1142, ...) is ErrPermissionDenied, a missing table
// (1146) ErrNotInitialized, an unknown database (1049) or a read-only server
// ErrMisconfigured, lost connections, too many connections, lock wait
// timeouts and deadlocks ErrStorageUnavailable.
package mysql
