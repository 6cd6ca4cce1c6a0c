// Package memory is the embedded, in-process storage engine: the default
// engine of package eventstore, and the fastest one. It keeps everything in
// the process's memory, so it suits tests, examples, caches and short-lived
// tools; nothing survives the process.
//
// It implements the whole [persistence.Engine] contract and passes the shared
// suite in package acceptance. Importing the package registers it as
// "memory", so that
//
//	persistence.OpenURL(ctx, "memory://")
//
// opens a new, empty engine ("" opens one too; "memory://?page_size=3" sets
// the page size). [New] does the same directly, with options:
//
//	e := memory.New(memory.WithPageSize(3)) // small pages, as the acceptance suite uses
//
// # Shared values
//
// The engine does not copy what it is given. Commit keeps the attempt's
// Payload and Decoded as they are, and reads return those same values, so
// that the store can skip deserialization. Committed values are therefore
// shared between the writer and every reader: callers must treat
// CommitAttempt.Payload and Decoded, Snapshot.Payload, and everything that
// reads return, as immutable, and must not reuse a buffer once it has been
// committed.
//
// # How it is built
//
// One mutex guards all state. Commits live in one global log indexed by
// checkpoint, so that a checkpoint is a position and ReadAll starts in O(1);
// each stream keeps its commits ordered by commit sequence, with their
// revision ranges beside them for binary search; commit IDs are checked per
// stream. Undispatched commits are kept in a checkpoint-ordered list of their
// own, compacted as commits are marked dispatched. Reads copy one page of
// commits under the lock and yield it outside the lock, so a loop body may
// call the engine (MarkDispatched inside a range over Undispatched, say).
//
// Checkpoints start at 1 and are dense until streams are deleted; they are
// never reused after DeleteStream, PurgeBucket or Purge. Drop starts the
// numbering afresh, as dropping a database would.
package memory
