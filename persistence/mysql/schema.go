package mysql

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// SchemaVersion is the version of the tables this package creates. It is
// recorded in the schema table; Initialize migrates older versions and
// refuses newer ones. Version 2 added schema.purged (see Purge).
const SchemaVersion = 2

// Index names. Commit tells the duplicate-key errors apart by them.
const (
	keySequence = "ux_sequence"  // (bucket_key, stream_key, commit_sequence): optimistic concurrency
	keyCommitID = "ux_commit_id" // (bucket_key, stream_key, commit_id): idempotency
	keyPrimary  = "PRIMARY"      // checkpoint
)

// keyLen is the length of the hashed keys: the first 160 bits of SHA-256,
// as long as NEventStore's SHA-1 stream hash and far from any collision.
const keyLen = 20

// idKey returns the index key of a bucket or stream ID: IDs of up to 1000
// characters of any Unicode are too long for an InnoDB index, so the keys
// hold a hash and the original ID is stored beside it.
func idKey(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:keyLen]
}

// schema creates the tables. {p} is replaced by the validated prefix.
//
// commits: one row per commit, or a tombstone: a row holding only a
// checkpoint (every other column NULL), left by a reader that claimed a
// checkpoint no writer had made visible, by DeleteStream and PurgeBucket, or
// by Purge at the highest checkpoint. NULLs are distinct in unique keys, so
// tombstones never collide there.
//
//   - PRIMARY (checkpoint): AUTO_INCREMENT, the global order.
//   - ux_sequence, ux_commit_id: concurrency and idempotency, enforced by
//     InnoDB; ux_sequence also serves stream reads, stream heads and bucket
//     purges (bucket_key is its first column).
//   - ix_undispatched (undispatched): 1 until dispatched, NULL after, so
//     Undispatched reads the range undispatched = 1 in checkpoint order
//     (the primary key is the index's implicit last column).
//
// There is deliberately no (bucket_key, checkpoint) index: every index costs
// each commit, and bucket reads scan the checkpoint range anyway (see
// readBucket).
//
// IDs are hashed for the keys (SHA-256, first 20 bytes) and stored whole
// beside them; the commit stamp is microseconds since the Unix epoch, UTC,
// which no connection time zone can shift.
//
// schema: one row (id 1): the schema version, and purged, the checkpoint
// below which every hole is final (see Purge).
var schema = []string{
	"CREATE TABLE IF NOT EXISTS `{p}commits` (" +
		"checkpoint BIGINT NOT NULL AUTO_INCREMENT," +
		"bucket_key BINARY(20) NULL," +
		"stream_key BINARY(20) NULL," +
		"commit_sequence INT NULL," +
		"commit_id BINARY(16) NULL," +
		"stream_revision INT NULL," +
		"items INT NULL," +
		"commit_stamp BIGINT NULL," +
		"undispatched TINYINT NULL," +
		"bucket_id VARCHAR(1000) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL," +
		"stream_id VARCHAR(1000) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL," +
		"payload MEDIUMBLOB NULL," +
		"PRIMARY KEY (checkpoint)," +
		"UNIQUE KEY ux_sequence (bucket_key, stream_key, commit_sequence)," +
		"UNIQUE KEY ux_commit_id (bucket_key, stream_key, commit_id)," +
		"KEY ix_undispatched (undispatched)" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
	"CREATE TABLE IF NOT EXISTS `{p}snapshots` (" +
		"bucket_key BINARY(20) NOT NULL," +
		"stream_key BINARY(20) NOT NULL," +
		"stream_revision INT NOT NULL," +
		"bucket_id VARCHAR(1000) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL," +
		"stream_id VARCHAR(1000) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL," +
		"payload MEDIUMBLOB NOT NULL," +
		"PRIMARY KEY (bucket_key, stream_key, stream_revision)" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
	"CREATE TABLE IF NOT EXISTS `{p}schema` (id TINYINT NOT NULL PRIMARY KEY, version INT NOT NULL, " +
		"purged BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB",
}

// migrations[v] upgrades a schema at version v to v+1.
var migrations = map[int][]string{
	1: {"ALTER TABLE `{p}schema` ADD COLUMN purged BIGINT NOT NULL DEFAULT 0"},
}

// Initialize creates the tables if they do not exist and records the schema
// version, migrating an older schema. It is idempotent. It also checks that
// the session's auto_increment_increment is 1: with a larger step every
// checkpoint number in between is a hole that each reader settles with a
// tombstone insert (correct, but it doubles the writes and the table), and a
// step above 1 usually means a multi-primary setup, where the lock wait the
// checkpoint mechanism relies on happens on one server only.
func (e *engine) Initialize(ctx context.Context) error {
	var step int
	if err := e.db.QueryRowContext(ctx, "SELECT @@session.auto_increment_increment").Scan(&step); err != nil {
		return err
	}
	if step != 1 {
		return fmt.Errorf("auto_increment_increment is %d, want 1 (multi-primary replication is not supported; set it to 1 for the event store's connections): %w", step, driver.ErrMisconfigured)
	}
	for _, ddl := range schema {
		if _, err := e.db.ExecContext(ctx, e.expand(ddl)); err != nil {
			return err
		}
	}
	if _, err := e.db.ExecContext(ctx, e.expand("INSERT IGNORE INTO `{p}schema` (id, version) VALUES (1, ?)"), SchemaVersion); err != nil {
		return err
	}
	var version int
	if err := e.db.QueryRowContext(ctx, e.expand("SELECT version FROM `{p}schema` WHERE id = 1")).Scan(&version); err != nil {
		return err
	}
	if version > SchemaVersion {
		return fmt.Errorf("tables %s* have schema version %d, newer than this package's %d: upgrade the library: %w", e.prefix, version, SchemaVersion, driver.ErrMisconfigured)
	}
	for ; version < SchemaVersion; version++ {
		for _, ddl := range migrations[version] {
			// A migration interrupted before it recorded its version is
			// run again: a column it added already is no error.
			if _, err := e.db.ExecContext(ctx, e.expand(ddl)); err != nil && !isServerError(err, errDupColumn) {
				return fmt.Errorf("migrate schema %d to %d: %w", version, version+1, err)
			}
		}
		if _, err := e.db.ExecContext(ctx, e.expand("UPDATE `{p}schema` SET version = ? WHERE id = 1 AND version = ?"), version+1, version); err != nil {
			return err
		}
	}
	return nil
}

// Drop removes the engine's tables. Initialize creates them again.
func (e *engine) Drop(ctx context.Context) error {
	_, err := e.db.ExecContext(ctx, e.expand("DROP TABLE IF EXISTS `{p}commits`, `{p}snapshots`, `{p}schema`"))
	return err
}

// commitColumns are the columns a full commit read selects, in scanCommit's order.
const commitColumns = "checkpoint, bucket_id, stream_id, stream_revision, items, commit_id, commit_sequence, commit_stamp, payload"

// streamColumns are the columns a stream read selects (the stream is the
// one asked for), in ReadStream's order.
const streamColumns = "checkpoint, stream_revision, items, commit_id, commit_sequence, commit_stamp, payload"

// tombstoneSet is the SET clause that turns commits into tombstones.
const tombstoneSet = "SET bucket_key = NULL, stream_key = NULL, commit_sequence = NULL, commit_id = NULL, " +
	"stream_revision = NULL, items = NULL, commit_stamp = NULL, undispatched = NULL, bucket_id = NULL, stream_id = NULL, payload = NULL"

// batchSize bounds the rows one DELETE or tombstone UPDATE touches, so that
// no transaction grows with the data.
const batchSize = 1000

// batchLimit is the LIMIT clause of batchSize.
var batchLimit = " LIMIT " + strconv.Itoa(batchSize)

// The engine's statements, with {p} for the table prefix (see expand).
// engine.stmt prepares each once, with the engine's prefix.
var (
	sqlInsertCommit    = "INSERT INTO `{p}commits` (bucket_key, stream_key, commit_sequence, commit_id, stream_revision, items, commit_stamp, undispatched, bucket_id, stream_id, payload) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)"
	sqlFill            = "INSERT INTO `{p}commits` (checkpoint) VALUES (?)"
	sqlCommitIDExists  = "SELECT COUNT(*) FROM `{p}commits` WHERE bucket_key = ? AND stream_key = ? AND commit_id = ?"
	sqlSequenceExists  = "SELECT COUNT(*) FROM `{p}commits` WHERE bucket_key = ? AND stream_key = ? AND commit_sequence = ?"
	sqlScanAll         = "SELECT " + commitColumns + " FROM `{p}commits` WHERE checkpoint > ? ORDER BY checkpoint LIMIT ?"
	sqlGetAt           = "SELECT " + commitColumns + " FROM `{p}commits` WHERE checkpoint = ?"
	sqlScanCheckpoints = "SELECT checkpoint FROM `{p}commits` WHERE checkpoint > ? ORDER BY checkpoint LIMIT ?"
	sqlGetCPAt         = "SELECT checkpoint FROM `{p}commits` WHERE checkpoint = ?"
	sqlReadBucket      = "SELECT " + commitColumns + " FROM `{p}commits` WHERE checkpoint > ? AND checkpoint <= ? AND bucket_key = ? ORDER BY checkpoint LIMIT ?"
	// FORCE INDEX: left alone, MariaDB reads ux_sequence by ref on (bucket_key,
	// stream_key) and filters commit_sequence > ? row by row, so each page
	// would scan the stream from its start; forced, it seeks (a range on all
	// three key parts). The same holds for stream_key > ? in streamHeads.
	sqlReadStream        = "SELECT " + streamColumns + " FROM `{p}commits` FORCE INDEX (ux_sequence) WHERE bucket_key = ? AND stream_key = ? AND commit_sequence > ? AND stream_revision >= ? ORDER BY commit_sequence LIMIT ?"
	sqlReadStreamBounded = "SELECT " + streamColumns + " FROM `{p}commits` FORCE INDEX (ux_sequence) WHERE bucket_key = ? AND stream_key = ? AND commit_sequence > ? AND stream_revision >= ? AND stream_revision - items < ? ORDER BY commit_sequence LIMIT ?"
	// The primary key read backwards, past the tombstones at its end.
	// FORCE INDEX: left alone, MySQL 9 may take stream_key IS NOT NULL for a
	// range on ux_sequence, reading every commit's key and sorting.
	sqlHead  = "SELECT checkpoint FROM `{p}commits` FORCE INDEX (PRIMARY) WHERE stream_key IS NOT NULL ORDER BY checkpoint DESC LIMIT 1"
	sqlFloor = "SELECT purged FROM `{p}schema` WHERE id = 1"
	// FORCE INDEX: for a small LIMIT, MySQL 9 may prefer reading PRIMARY in
	// order and filtering, which walks every dispatched commit.
	sqlUndispatched   = "SELECT " + commitColumns + " FROM `{p}commits` FORCE INDEX (ix_undispatched) WHERE undispatched = 1 AND checkpoint > ? ORDER BY checkpoint LIMIT ?"
	sqlMarkDispatched = "UPDATE `{p}commits` SET undispatched = NULL WHERE checkpoint = ? AND undispatched = 1 AND bucket_key = ? AND stream_key = ? AND commit_id = ?"
	// REPLACE, not INSERT ... ON DUPLICATE KEY UPDATE payload = VALUES(payload):
	// MySQL 8.0.20+ deprecates VALUES() there (warning 1287) in favour of a
	// row alias (INSERT ... AS new) that MariaDB does not parse. The primary
	// key is the table's only unique key, so REPLACE replaces exactly the
	// snapshot at this revision (InnoDB updates it in place), on both servers.
	sqlAddSnapshot = "REPLACE INTO `{p}snapshots` (bucket_key, stream_key, stream_revision, bucket_id, stream_id, payload) " +
		"SELECT ?, ?, ?, ?, ?, ? FROM `{p}commits` WHERE bucket_key = ? AND stream_key = ? AND stream_revision >= ? AND stream_revision - items < ? ORDER BY commit_sequence DESC LIMIT 1"
	sqlSnapshotCommitExists = "SELECT COUNT(*) FROM (SELECT 1 FROM `{p}commits` WHERE bucket_key = ? AND stream_key = ? AND stream_revision >= ? AND stream_revision - items < ? ORDER BY commit_sequence DESC LIMIT 1) found"
	sqlLatestSnapshot       = "SELECT stream_revision, payload FROM `{p}snapshots` WHERE bucket_key = ? AND stream_key = ? AND stream_revision <= ? ORDER BY stream_revision DESC LIMIT 1"
	// One page of stream heads: the last commit of each stream and its
	// latest snapshot revision. The derived table walks ux_sequence from
	// the cursor in stream_key order, one group per stream, and stops after
	// the page: its cost is the page's, wherever the cursor is. It groups by
	// stream_key alone (bucket_key is fixed by the equality): grouped by
	// (bucket_key, stream_key), MariaDB 10.11 collects every stream after
	// the cursor in a temporary table and sorts it to keep a page.
	// STRAIGHT_JOIN keeps the page first (each head is then an eq_ref on
	// ux_sequence). There is no outer ORDER BY, which would sort the
	// materialized page: StreamsToSnapshot sorts the page itself.
	sqlStreamHeads = "SELECT h.stream_key, c.bucket_id, c.stream_id, c.stream_revision, " +
		"COALESCE((SELECT MAX(s.stream_revision) FROM `{p}snapshots` s WHERE s.bucket_key = c.bucket_key AND s.stream_key = c.stream_key), 0) " +
		"FROM (SELECT stream_key, MAX(commit_sequence) AS seq FROM `{p}commits` FORCE INDEX (ux_sequence) WHERE bucket_key = ? AND stream_key > ? " +
		"GROUP BY stream_key ORDER BY stream_key LIMIT ?) h " +
		"STRAIGHT_JOIN `{p}commits` c ON c.bucket_key = ? AND c.stream_key = h.stream_key AND c.commit_sequence = h.seq"
	sqlTombstoneStream       = "UPDATE `{p}commits` " + tombstoneSet + " WHERE bucket_key = ? AND stream_key = ?" + batchLimit
	sqlTombstoneBucket       = "UPDATE `{p}commits` " + tombstoneSet + " WHERE bucket_key = ?" + batchLimit
	sqlDeleteStreamSnapshots = "DELETE FROM `{p}snapshots` WHERE bucket_key = ? AND stream_key = ?"
	sqlDeleteBucketSnaps     = "DELETE FROM `{p}snapshots` WHERE bucket_key = ?" + batchLimit
	sqlTop                   = "SELECT COALESCE(MAX(checkpoint), 0) FROM `{p}commits`"
	sqlRaiseFloor            = "UPDATE `{p}schema` SET purged = GREATEST(purged, ?) WHERE id = 1"
	sqlPurgeBelow            = "DELETE FROM `{p}commits` WHERE checkpoint < ? ORDER BY checkpoint" + batchLimit
	sqlTombstoneAt           = "UPDATE `{p}commits` " + tombstoneSet + " WHERE checkpoint = ?"
	sqlPurgeSnapshots        = "DELETE FROM `{p}snapshots`" + batchLimit
)

// expand fills the table prefix into a statement. The prefix was validated
// against [A-Za-z_][A-Za-z0-9_]*, and names are quoted besides.
func expand(stmt, prefix string) string { return strings.ReplaceAll(stmt, "{p}", prefix) }
