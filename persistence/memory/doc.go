// Package memory is the embedded, in-process storage engine: the default
// engine of package eventstore, and the fastest one. It keeps everything in
// the process's memory, so it suits tests, examples, caches and short-lived
// tools; nothing survives the process.
//
// It implements the driver contract (package
// github.com/goeventstore/eventstore/persistence/driver) with every
// capability, behind the portable [persistence.Engine], and passes the
// shared suite in package acceptance. [New] returns a new, empty engine:
//
//	e := memory.New()                             // the defaults
//	e := memory.New(persistence.WithPageSize(3)) // small pages, as the acceptance suite uses
//
// Importing the package registers it as "memory", so that
//
//	persistence.OpenURL(ctx, "memory://")
//
// opens a new, empty engine too ("" opens one as well). [Open] takes the
// portable URL parameters: "memory://?page_size=3&op_timeout=2s". The
// engine has no options of its own.
//
// # Shared values
//
// The engine does not copy what it is given. Commit keeps the attempt's
// Payload as it is, and CommitValue also the caller's in-process form of it
// (driver.ValueCommitter), which reads return in Commit.Value, so that the
// store can skip deserialization. Committed values are therefore shared
// between the writer and every reader: callers must treat
// CommitAttempt.Payload, the values given to CommitValue, Snapshot.Payload,
// and everything that reads return, as immutable, and must not reuse a
// buffer once it has been committed.
//
// # How it is built
//
// Streams are spread over 64 shards by stream ID, each with its own lock
// over its streams' indexes: each stream keeps its commits ordered by commit
// sequence, with their revision ranges beside them for binary search, and
// checks commit IDs itself. Commits live in one global log indexed by
// checkpoint, so that a checkpoint is a position and reading from a
// checkpoint starts in O(1). Commit checks the stream under its shard's
// lock and then, in one short section under the engine's lock, takes the
// next checkpoint and publishes the commit in the log, the bucket's
// checkpoint list and the undispatched list: commits become visible in
// checkpoint order, so a reader polling from its last checkpoint misses
// none (the engine needs no gap filling). Writers to distinct streams
// contend only for that section. Locks are taken shard first, then the
// engine's, then a log chunk's; DeleteStream takes its stream's shard and
// the engine lock, and Purge, PurgeBucket, Drop and Close take every lock.
//
// Undispatched commits are kept in a checkpoint-ordered list of their own,
// compacted as commits are marked dispatched. MarkDispatched does not take
// the committers' lock: it finds the commit through the log's atomically
// published chunk directory, and flags it atomically under the lock of its
// log chunk, which only removals take. Reads copy one page of commits under
// the locks and return it; the portable layer yields it outside them.
//
// Checkpoints start at 1 and are dense until streams are deleted; they are
// never reused after DeleteStream, PurgeBucket or Purge (Purge keeps the
// high-water mark). Drop starts the numbering afresh, as dropping a
// database would.
package memory
