// Package persistence defines the contract between the event store and a
// storage engine, the way database/sql/driver does for database/sql.
//
// Application code rarely imports this package: it uses package eventstore
// and links an engine in with a blank import. People writing an engine
// implement [Engine], register it with [Register] from an init function, and
// prove it with the shared suite in package acceptance:
//
//	func TestAcceptance(t *testing.T) {
//		acceptance.Run(t, acceptance.Harness{New: newEngine})
//	}
//
// # What an engine stores
//
// An engine stores commits: a batch of events appended to one stream at once,
// identified by a caller-supplied commit ID. The events and headers arrive
// already serialized, as an opaque [CommitAttempt.Payload]; the engine never
// looks inside. What it must index are the fields around it: bucket, stream,
// commit sequence, stream revision, commit ID and checkpoint.
//
// # The rules every engine enforces
//
//   - Optimistic concurrency: at most one commit per (bucket, stream, commit
//     sequence). A second one fails with [ErrConcurrency]. The storage's own
//     atomic operation enforces it (a unique key, a conditional create), never
//     a read followed by a write in Go.
//   - Idempotency: at most one commit per (bucket, stream, commit ID). A
//     second one fails with [ErrDuplicateCommit], which takes precedence over
//     [ErrConcurrency] when both apply, also when the retry comes with a later
//     commit sequence. The same commit ID on another stream is allowed.
//   - A global order: every stored commit gets an int64 checkpoint, and
//     [Engine.ReadAll] and [Engine.ReadBucket] return commits in strictly
//     increasing checkpoint order. A reader that polls again from the last
//     checkpoint it saw never misses a commit that becomes visible later and
//     never sees one twice. Checkpoints need not be dense. This is the
//     property that SQL auto-increment columns and counter documents break
//     when a number handed out early becomes visible late: an engine has to
//     close that trap (see the engine packages for how each one does).
//   - Nothing half-written: a failed Commit leaves no trace a reader can see,
//     and an acknowledged one is never lost.
//
// # Errors
//
// Engines report failures with the sentinel errors of this package, wrapped
// so that errors.Is finds them: [ErrConcurrency], [ErrDuplicateCommit],
// [ErrStreamNotFound], [ErrSnapshotNotFound], [ErrStorageUnavailable] (with the
// driver's error wrapped too), [ErrClosed], and [*ValidationError] for bad
// input. Context cancellation is reported with the context's error wrapped.
package persistence
