package sqlite

import (
	"context"
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// schema creates the tables and indexes; each statement is idempotent and
// runs on its own, so that engines initializing one file at once never wait
// on each other's transaction.
//
// eventstore_commits: one row per commit.
//   - checkpoint: INTEGER PRIMARY KEY AUTOINCREMENT, the rowid. AUTOINCREMENT
//     keeps the greatest number ever handed out in sqlite_sequence, so none
//     is handed out again, not after DeleteStream, not after Purge.
//   - UNIQUE (bucket, stream, sequence): optimistic concurrency; also serves
//     stream reads, deletes and stream heads.
//   - UNIQUE (bucket, stream, commit_id): idempotency.
//   - (bucket, checkpoint): bucket reads in checkpoint order.
//   - (checkpoint) WHERE dispatched = 0: a partial index holding only the
//     undispatched commits, so Undispatched costs what is left to dispatch.
//
// IDs are TEXT in the BINARY collation (byte for byte, case-sensitive), the
// commit ID a 16-byte BLOB, the stamp microseconds since the Unix epoch.
const schema = `
CREATE TABLE IF NOT EXISTS eventstore_commits (
	checkpoint INTEGER PRIMARY KEY AUTOINCREMENT,
	bucket     TEXT    NOT NULL,
	stream     TEXT    NOT NULL,
	sequence   INTEGER NOT NULL,
	commit_id  BLOB    NOT NULL,
	revision   INTEGER NOT NULL,
	items      INTEGER NOT NULL,
	stamp      INTEGER NOT NULL,
	dispatched INTEGER NOT NULL DEFAULT 0,
	payload    BLOB,
	UNIQUE (bucket, stream, sequence),
	UNIQUE (bucket, stream, commit_id)
);
CREATE INDEX IF NOT EXISTS eventstore_commits_bucket ON eventstore_commits (bucket, checkpoint);
CREATE INDEX IF NOT EXISTS eventstore_commits_undispatched ON eventstore_commits (checkpoint) WHERE dispatched = 0;
CREATE TABLE IF NOT EXISTS eventstore_snapshots (
	bucket   TEXT    NOT NULL,
	stream   TEXT    NOT NULL,
	revision INTEGER NOT NULL,
	payload  BLOB,
	PRIMARY KEY (bucket, stream, revision)
);`

// Initialize creates the tables and indexes that do not exist.
func (e *engine) Initialize(ctx context.Context) error {
	_, err := e.db.ExecContext(ctx, schema)
	return err
}

// Drop removes the tables, and with them the checkpoint high-water mark:
// after Initialize, checkpoints start again from 1.
func (e *engine) Drop(ctx context.Context) error {
	_, err := e.db.ExecContext(ctx, `DROP TABLE IF EXISTS eventstore_commits; DROP TABLE IF EXISTS eventstore_snapshots`)
	return err
}

// Classify maps SQLite result codes to the error classes.
func (e *engine) Classify(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return driver.ErrStorageUnavailable
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH:
		return driver.ErrPermissionDenied
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB:
		return driver.ErrMisconfigured
	case sqlite3.SQLITE_ERROR:
		if strings.Contains(se.Error(), "no such table") {
			return driver.ErrNotInitialized
		}
	}
	return nil
}
