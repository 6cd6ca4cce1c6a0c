// Package mongo is the MongoDB engine of the event store, on the official
// driver (go.mongodb.org/mongo-driver/v2). Importing it registers the engine
// for mongodb:// and mongodb+srv:// URLs:
//
//	import _ "github.com/goeventstore/eventstore/persistence/mongo"
//
//	store, err := eventstore.Wireup().UsingMongo("mongodb://127.0.0.1:27017/events").Build(ctx)
//
// [Open] takes a URL whose path names the database (default "eventstore").
// Its query parameters commits and snapshots name the two collections (in
// code: [WithCommitsCollection], [WithSnapshotsCollection]), page_size,
// op_timeout and admin_timeout are the portable settings of every engine
// (see persistence.Settings), and every other parameter is the driver's.
// Unless the URL sets serverSelectionTimeoutMS and connectTimeoutMS, they
// are the operation timeout, so that calls fail within it while the server
// is down. [New] runs on a *mongo.Database the caller already has. Both
// return a *persistence.Engine, whose As gives the *mongo.Client and the
// *mongo.Database.
//
// It needs no multi-document transactions, so it works on a standalone
// server, a replica set and FerretDB alike. (It does not support sharding
// the commits collection: its unique indexes do not start with one shard
// key.)
//
// # Storage
//
// Commits are documents of the commits collection, one per commit, whose _id
// is the commit's checkpoint (see document.go for the shape). Long stream IDs
// are keyed by a digest: the key field is 32 hex digits of
// SHA-256(bucket, NUL, stream), and the IDs are kept as given. Commit stamps
// are stored as int64 microseconds, since BSON dates hold milliseconds.
// Snapshots live in the snapshots collection, one document per stream and
// revision.
//
// # Rules the server enforces
//
// Unique indexes (indexes.go) make the server itself refuse a second commit
// at the same (stream, commit sequence), which Commit reports as
// persistence.ErrConcurrency, and a second commit with the same (stream,
// commit ID), reported as persistence.ErrDuplicateCommit; the duplicate wins
// when both apply (commit.go). A commit is one InsertOne: atomic, and one
// round trip.
//
// # Checkpoints
//
// Writers take the next checkpoint from an in-process hint before inserting
// (checkpoint.go), so numbers can be burnt by failed inserts or become
// visible late. ReadAll and ReadBucket therefore close every hole between
// two visible checkpoints with package gapfill: a reader claims the hole
// with a tombstone document, which makes a late writer retry with a higher
// number, or finds the commit that was there (read.go). A reader
// polling from the last checkpoint it saw never misses a commit. For that
// the engine reads from the primary with read concern "local", whatever the
// URL says, and refuses unacknowledged writes (w=0).
//
// # Reads
//
// The portable layer asks for one page per call. A page that ends with more
// to come parks its cursor, and the next page continues it with a getMore
// (cursor.go): a read costs one query and a round trip per page, as a single
// cursor would, also on FerretDB, where every new query reads the whole
// collection. Parked cursors hold no connection; unused ones are closed
// after 30 s.
//
// # Indexes
//
// Initialize creates the indexes of indexes.go, and every query the engine
// sends names the one it needs with a hint, so that a real MongoDB cannot
// choose a collection scan however its statistics look: stream reads and
// the conflict lookup use stream_sequence, the undispatched read
// undispatched, bucket reads and StreamsToSnapshot bucket, checkpoint
// order and lookups _id_, snapshots stream_revision
// (TestEveryQueryNamesItsIndex checks each hint against the definitions).
//
// FerretDB, which the test suite runs on, accepts hints and ignores them.
// On its SQLite backend every query is a scan: explain answers
// "filterPushdown": false, "sortPushdown": false and a plan of
// "SCAN commits_<hash>" even for a lookup by _id. So on FerretDB every read,
// MarkDispatched and the first commit's look for the greatest checkpoint
// cost a pass over the collection; the plain driver pays the same there.
// MarkDispatchedBatch (one UpdateMany, _id $in) pays one pass per batch
// instead of one per commit.
// Figures measured on FerretDB describe that server, not this engine on
// MongoDB.
//
// # Errors
//
// The engine returns the driver's errors as they are and classifies them
// (errors.go): refused credentials or operations are
// persistence.ErrPermissionDenied, server selection failures, network
// errors and timeouts persistence.ErrStorageUnavailable, a missing
// collection persistence.ErrNotInitialized. Commit also reports
// ErrNotInitialized when the commits collection lacks the unique indexes
// Initialize makes, rather than let the server create it without them.
//
// # Deleting
//
// DeleteStream and PurgeBucket replace commits with tombstones, so numbers
// are never reused and readers find no holes; Purge leaves one "floor"
// tombstone at the greatest checkpoint, below which readers fill nothing
// (delete.go).
package mongo
