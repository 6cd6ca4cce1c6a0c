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
// Several processes share the numbering fairly. A writer whose number
// was taken tries the next number of its hint; at a second collision (or
// at the first, for a second after its engine last met another process)
// the engine moves to blocks: it claims 64 numbers at a time, by inserting
// a tombstone at the first (the unique _id index lets one claim win), and
// its writers take the others one after the other, so engines in
// different processes no longer meet at every number. It claims its next
// block in the background when its block is half used, tries the block
// after its last claim first, and after a lost claim 1, 2, 4... blocks
// further; an engine that met nobody for 10 s goes back to its hint
// (checkpoint.go). TestFairness (acceptance.RunFairness, 4 instances × 4
// writers) on FerretDB's PostgreSQL backend, with the runs taken in turns
// (a warm-up, then single, shared, shared, single, 1.5 s each, so that
// the server's warm-up, which doubles its rate over its first 30 s, no
// longer counts against the single instance measured first): the shared
// runs made 0.83 to 0.96 of one instance's commits (0.92, 0.83, 0.96, 0.90,
// 0.95, 0.88 in six runs), in even shares (e.g. [1531 1536 1538 1490]),
// commit p99 1.1 to 1.3 times the single instance's; with 5 s runs
// (EVENTSTORE_FAIRNESS_DURATION=10s) 0.89 and 0.84. Blocks of 256 numbers
// instead of 64 gave the same (0.93, 0.80, 0.85). The figures of the old
// order (single first, then shared), 0.78 to 1.03 with a median of 0.93,
// were flattered by that warm-up. About one claim is lost per block
// claimed, and each instance meets 8 or 9 taken
// numbers (before it moves to blocks). Before blocks (old order) it made 0.53 to 0.58
// in 3 s phases and 0.23 in 30 s phases (p99 25 times the single
// instance's): a writer jumped ahead of a lost number by a random 64 to
// 128, 11% of inserts failed on a taken number, each 42 to 60 ms on
// FerretDB against 16 ms for one that succeeds, and the second in a row
// costs a lookup, 90 to 140 ms. Before that, [3 2 0 0] (reading the
// greatest number after every collision). On
// FerretDB's SQLite backend, which serializes writes, the engine stays
// unfair ([1 1 2 16] with the jumps, commits failing on the 5 s operation
// timeout), so TestFairness runs on the PostgreSQL backend only. A
// counter document ($inc through findAndModify) is not used: FerretDB
// loses concurrent increments of one document (see checkpoint.go).
//
// Blocks leave holes: the numbers left in a block its engine stopped
// using (it stopped writing, a reader filled its next number, or a
// stream's previous commit was above it twice in a row). Readers fill
// holes with tombstones, a run of them in one insert (see Reads), but
// they hold off a young block: holes in a block claimed less than 500 ms
// ago are filled only once the claim is that old, since its engine is
// likely numbering its commits there, and a hole filled would push it
// out of the block (read.go, holdFor). So a reader waits at most that
// long for a block, however often it polls. On FerretDB/PostgreSQL, a
// reader following the head beside 4 × 4 writers for 3 s saw every
// commit as it came and filled one hole per 5 to 15 commits (without the
// hold, a reader there kept up with a fraction of the commits).
//
// Since each process numbers from its own hint or block, one whose numbers
// are below another's block would store a stream's next commit below its
// predecessor, and ReadAll would yield the two reversed. So a commit takes
// a number above its predecessor's checkpoint (from a block claimed above
// it, if its engine's block is below; the numbers left in the block below
// go to the commits that follow): known from the engine's
// own commits and reads of the stream, else one lookup on the sequence
// index (order.go; TestStreamOrderAcrossEngines, and the turns
// acceptance.RunFairness takes on one stream).
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
// FerretDB v1.24, which the test suite runs on (on its SQLite and its
// PostgreSQL backend), accepts hints and ignores them, and uses no index
// for a query. On SQLite every query is a scan: explain answers
// "filterPushdown": false, "sortPushdown": false and a plan of
// "SCAN commits_<hash>" even for a lookup by _id. On PostgreSQL, explain of
// a store of 3,000 commits answers "filterPushdown": true for the equality
// part of a filter (a stream's key, an _id, the undispatched flag) with the
// plan "Seq Scan" and the filter
// ((commits_<hash>._jsonb -> 'key'::text) @> '"<key>"'::jsonb): FerretDB
// makes each index a btree on (_jsonb -> 'field'), which PostgreSQL cannot
// use for @>. Ranges ($gt on seq or _id) and sorts are not pushed down
// ("sortPushdown": false, "limitPushdown": false), and the look for the
// greatest _id ("filterPushdown": false) sends the whole collection through
// FerretDB. So on FerretDB every read, MarkDispatched and the first
// commit's look for the greatest checkpoint cost a pass over the
// collection (on PostgreSQL a faster one: the equality filter runs inside
// PostgreSQL); the plain driver pays the same there. MarkDispatchedBatch
// (one UpdateMany, _id $in) pays one pass per batch instead of one per
// commit. Figures measured on
// FerretDB describe that server, not this engine on MongoDB: BenchmarkScale
// on FerretDB/PostgreSQL (EVENTSTORE_SCALE_SIZES=1000,5000,20000, 25 min
// on a machine at load 15 to 40) took the first page near the head in 3.1,
// 4.0 and 6.7 s at 1,000, 5,000 and 20,000 commits (a range, read through
// FerretDB whole), a stream open 15, 13 and 54 ms at p50, and at 20,000
// MarkDispatched managed 18 marks/s before FerretDB dropped the
// connection; commits per second held (1 writer 0.97, 16 writers 0.43 of
// the plain driver at 20,000).
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
