// Package eventstore is an event store for Go: a port of NEventStore
// (Jonathan Oliver's EventStore) that keeps streams of events over a
// pluggable storage engine (in memory, MongoDB, MySQL/MariaDB, SQLite in
// contrib/sqlite, Amazon S3, Azure Table Storage), with optimistic
// concurrency, idempotent commits, snapshots, pipeline hooks and
// at-least-once dispatch of every commit.
//
// # A first store
//
// [Wireup] configures a store and Build opens it. With no engine chosen the
// store keeps everything in memory, which is all a test or a first try
// needs:
//
//	store, err := eventstore.Wireup().
//		RegisterType("MoneyDeposited", MoneyDeposited{}).
//		Build(ctx)
//	if err != nil { ... }
//	defer store.Close(ctx)
//
// A real engine is one more line in the chain and a blank import that links
// its driver in (the root package imports no database driver):
//
//	import _ "github.com/goeventstore/eventstore/persistence/mysql"
//
//	store, err := eventstore.Wireup().UsingMySQL("root@tcp(127.0.0.1:3306)/events").Build(ctx)
//
// # Streams, events and commits
//
// A stream is the history of one thing (an order, an account), identified
// by a string. Its events are numbered by revision from 1. Events are
// written in commits: a batch appended at once, all or nothing. Open a
// stream, add events, commit:
//
//	stream, err := store.OpenStream(ctx, "account-1", 0, 0) // open, or create if new
//	stream.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 100}})
//	commit, err := stream.CommitChanges(ctx, eventstore.NewCommitID())
//
// Each commit carries a commit ID chosen by the caller, a commit sequence
// (its position in the stream, from 1), the revision of its last event, a
// UTC time stamp, optional headers (metadata; Stream.SetHeader), and a
// checkpoint: its position in the store-wide order.
//
// # Concurrency: who wins
//
// Two writers that read the same stream and both commit cannot both
// succeed: the second gets an error matching [ErrConcurrency]. Its stream
// has then refreshed itself with what the first committed, and still holds
// its uncommitted events, so the caller can look again and decide: retry
// with a new commit ID, change the events, or give up (ClearChanges).
// Nothing is ever merged or retried behind your back.
//
// # Idempotency: commit IDs
//
// A commit ID that is already stored on the stream is not stored again:
// CommitChanges returns an error matching [ErrDuplicateCommit], even if the
// stream has moved on since. Derive the commit ID from the command being
// handled, and a retried command (after a timeout, a crash, a redelivered
// message) is harmless: treat ErrDuplicateCommit as "already done".
//
// Committing with no uncommitted events does nothing and returns nil, nil.
//
// # Appending without a stream
//
// [Store.Append] stores one commit at an expected [Position] without
// reading the stream: [NoStream] (it must not exist), the position of the
// last commit you saw ([CommitAttempt.Position], [Stream.Position]), or
// [AnyPosition] (wherever it ends; this one reads). A position is a
// revision and a commit sequence because engines enforce concurrency on
// the commit sequence; the rules are CommitChanges'.
//
// # Errors
//
// Errors work with errors.Is and errors.As. Stream operations return a
// [*StreamError] naming the operation, bucket, stream and revision, wrapping
// one of [ErrConcurrency], [ErrDuplicateCommit], [ErrStreamNotFound],
// [ErrSnapshotNotFound], [ErrStorageUnavailable] (which also wraps the
// driver's error), [ErrClosed], [ErrVetoed], or a [*ValidationError] for
// bad input (empty or over-long IDs, a zero commit ID, negative revisions,
// nil bodies, bodies the serializer cannot encode). On any error, nothing
// was written. A stored commit that cannot be decoded is a
// [*CorruptCommitError] matching [ErrCorrupt] (see Poison commits).
//
// # Reading
//
// OpenStream reads a revision range (minRevision above 0 on a stream
// without such events is ErrStreamNotFound); [Store.StreamCommits] yields
// the same range as commits, with their IDs, stamps and checkpoints.
// [Store.Commits] reads every
// commit after a checkpoint, in order, for projections and read models:
// keep the last checkpoint you processed and read again from there, and
// you see each commit exactly once. [Store.Bucket] scopes everything to a
// bucket, a separate namespace of streams (a tenant); checkpoints are
// store-wide.
//
// # Poison commits
//
// A stored commit that cannot be decoded (a payload damaged in storage,
// written by other software, or encrypted with a key the store does not
// have) is reported as a [*CorruptCommitError], matching [ErrCorrupt],
// with its bucket, stream, commit ID, sequence, revision and checkpoint.
// OpenStream of its stream fails with it. [Store.Commits] yields it once,
// in its place in checkpoint order, and then ends: a projection decides
// what to do (alert, record the commit for repair, stop) and, to go on
// past it, reads again from the poison commit's checkpoint, which the
// next read excludes:
//
//	after := last
//	for {
//		var corrupt *eventstore.CorruptCommitError
//		for c, err := range store.Commits(ctx, after) {
//			if errors.As(err, &corrupt) {
//				report(corrupt)              // bucket, stream, commit, checkpoint
//				after = corrupt.Checkpoint   // skip it
//				break
//			}
//			if err != nil { return err }
//			apply(c)
//			after = c.Checkpoint
//		}
//		if corrupt == nil { break }          // read to the end
//	}
//
// Dispatching what an earlier run left undispatched, a store logs such a
// commit and leaves it undispatched instead of stopping.
//
// # Snapshots
//
// A snapshot saves a stream's state at a revision, so that loading a long
// stream replays only what came after:
//
//	store.AddSnapshot(ctx, stream.Snapshot(balance))
//	snap, err := store.LatestSnapshot(ctx, "account-1", 0)
//	stream, err := store.OpenStreamFromSnapshot(ctx, snap, 0)
//
// [Store.StreamsToSnapshot] lists the streams that have grown past a
// threshold since their last snapshot.
//
// # Serialization
//
// Events and snapshots are serialized with JSON by default. Whatever the
// serializer, a value that contains itself, nests deeper than [MaxNesting],
// holds a string that is not valid UTF-8 (JSON would store it altered), or
// a nil body (also a typed nil: a nil pointer, map or slice) is a
// [*ValidationError] naming the field, and nothing is written: what is read
// back is what was written. Bodies whose
// type is registered ([Builder.RegisterType], [TypeRegistry]) come back as
// that Go type; others come back in encoding/json's generic form
// (map[string]any, []any, float64, string, bool). Header values always come
// back in that generic form with JSON. encoding/gob is the binary
// alternative, and [Compress] and [EncryptWith] (AES-GCM; a wrong key is an
// error wrapping [ErrDecrypt], never garbage) wrap either:
//
//	eventstore.Wireup().UsingGobSerialization().Compress().EncryptWith(key)
//
// # Pipeline hooks
//
// A [PipelineHook] sees every commit read (SelectCommit: filter or
// upconvert old events), every commit about to be written (PreCommit: a
// veto), every commit stored (PostCommit), and purges and deleted streams.
// [HookFuncs] implements it with optional functions.
//
// # Dispatch
//
// Every stored commit is handed to a [Dispatcher] (a message bus, a
// projection) after the post-commit hooks, at least once and in order per
// stream: synchronously before CommitChanges returns, or asynchronously
// from a queue. The order holds also when goroutines of one process race
// on a stream (a commit waits for an earlier attempt still in progress);
// across processes, readers that need a total order use Store.Commits. A
// failing dispatcher is retried with backoff and then handed to a
// dead-letter function; it never makes CommitChanges fail. Whatever was
// not dispatched (a crash, a dead letter) stays marked undispatched in
// storage: Build starts dispatching it in the background and returns at
// once, however long the backlog (progress goes to the logger of
// [Builder.LogTo]; the commits the store stores meanwhile are dispatched
// after it, keeping each stream's order, also with synchronous dispatch;
// Close waits for it as for the queue), every store with a
// dispatcher sweeps for it periodically (Options.RedispatchEvery,
// [Builder.RedispatchEvery]; [DefaultRedispatchEvery] is a minute), and
// [Store.Redispatch] does it on demand.
//
// # Sharing and mutation
//
// A Store and its Buckets are safe for concurrent use; a Stream is not
// (give each goroutine its own, and let optimistic concurrency decide).
// Treat events as immutable once added: with the in-memory engine, commits
// read back may share bodies and header maps with what was written, and
// select hooks should assign new bodies rather than modify old ones.
package eventstore
