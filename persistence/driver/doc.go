// Package driver is the contract between package persistence and a storage
// engine, the way database/sql/driver is for database/sql. Application code
// never imports it; engine authors implement it.
//
// # What an engine implements
//
// The required core is [Engine]: three methods, Commit, ReadStream and
// ReadCommits. Everything else is an optional capability that the portable
// layer (package persistence) finds by type assertion, as database/sql does:
//
//	Initializer      Initialize: create tables, indexes, buckets
//	Closer           Close: release connections
//	Snapshotter      AddSnapshot, LatestSnapshot, StreamsToSnapshot
//	DispatchTracker  Undispatched, MarkDispatched
//	DispatchBatcher  MarkDispatchedBatch: many marks in one round trip
//	DispatchedCommitter CommitDispatched: store a copy already dispatched
//	StreamDeleter    DeleteStream
//	Purger           Purge, PurgeBucket
//	Dropper          Drop
//	HeadReader       Head: the greatest checkpoint, cheaply
//	ErrorClassifier  Classify: driver errors to error classes
//	Aser             As: the native client, for users who need it
//	ValueCommitter   CommitValue: keep the caller's in-process form (memory)
//	Immediate        calls never wait: no timeout timer per call (memory)
//
// A method of a capability the engine lacks fails in the portable layer with
// an error matching [ErrUnsupported]; package acceptance runs only the
// scenarios of the capabilities an engine declares.
//
// # What the portable layer does, so that engines do not
//
// Package persistence wraps every engine in one concrete type
// (persistence.Engine) that users and tools hold. Before an engine method is
// called it has:
//
//   - validated every argument (IDs, revisions, commit IDs, payload sizes:
//     an engine only ever sees valid input, see persistence.ValidateAttempt);
//   - checked the context (a done context never reaches the engine) and
//     bounded the call with the configured operation timeout;
//   - checked the closed state: no method is called after Close has begun,
//     and Close is called once, after the calls in progress have returned;
//   - turned a read into pages: the engine returns one page as a slice, with
//     its rows or cursor already closed, so a caller's loop body may call the
//     engine again (commit, mark dispatched) while it reads. Engines never
//     write iterators.
//
// After the call it wraps errors once, the same way for every engine: a
// *persistence.StreamError naming the operation, bucket and stream; errors
// that match no class of this package go through the engine's
// [ErrorClassifier] (and, without one, count as [ErrStorageUnavailable] when
// they are network errors, [ErrStorage] otherwise). It also checks what the
// engine returned: pages in order, within the limit, checkpoints increasing.
//
// So an engine returns its driver's errors as they are, except the outcomes
// of the rules below, which it reports with [ErrConcurrency],
// [ErrDuplicateCommit], [ErrStreamNotFound] and [ErrSnapshotNotFound].
//
// # The rules an engine enforces
//
//   - Optimistic concurrency: at most one commit per (bucket, stream, commit
//     sequence). A second one fails with [ErrConcurrency]. The storage's own
//     atomic operation enforces it (a unique key, a conditional create),
//     never a read followed by a write in Go, because writers run in several
//     processes.
//   - Idempotency: at most one commit per (bucket, stream, commit ID). A
//     second one fails with [ErrDuplicateCommit], which takes precedence
//     over [ErrConcurrency], also when the retry comes at a later commit
//     sequence. The same commit ID on another stream is allowed.
//   - A global order: every stored commit gets an int64 checkpoint, never
//     reused (not after DeleteStream, not after Purge). Commits that one
//     writer makes one after the other get increasing checkpoints, and so
//     do the commits of one stream; commits made at the same time by
//     different writers (goroutines, processes) may get theirs in either
//     order, whichever was acknowledged first. ReadCommits returns commits
//     in strictly increasing checkpoint order, and a reader that asks again
//     from the last checkpoint it saw never misses a commit that becomes
//     visible later. Checkpoints need not be dense.
//   - Nothing half-written: a failed Commit leaves no trace a reader can
//     see, and an acknowledged one is never lost.
//
// # Late commits: when an engine needs package gapfill
//
// If the storage hands out checkpoints before the write that uses them is
// visible (SQL auto-increment columns, counter documents, any "take a number,
// then insert" scheme), a reader can see checkpoint 42 before 41 is visible,
// move on, and never see 41. Such an engine must close the trap, and package
// github.com/goeventstore/eventstore/persistence/gapfill does it for any
// storage with an insert-if-absent: a reader that meets a hole claims it with
// a tombstone, so the late writer's insert fails and retries with a new
// number. Engines that assign checkpoints and make the commit visible in one
// atomic step (one lock, as the memory engine does, or a single-writer log)
// do not need it.
//
// # Proving an engine
//
// Package acceptance holds the shared suite. An engine's test declares its
// capabilities and runs it:
//
//	func TestAcceptance(t *testing.T) {
//		acceptance.Run(t, acceptance.Harness{
//			New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
//				return myengine.Open(ctx, freshStorage(t), opts...) // wraps the driver with persistence.NewEngine
//			},
//			PageSize: 3,
//			Features: acceptance.AllFeatures,
//		})
//	}
package driver
