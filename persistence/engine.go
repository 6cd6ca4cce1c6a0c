package persistence

import (
	"context"
	"iter"
)

// Engine is the contract a storage engine implements: the Go counterpart of
// NEventStore's IPersistStreams. All methods are safe for concurrent use.
//
// Every method honours its context: once ctx is done it returns an error
// wrapping ctx.Err() and writes nothing further. After Close every method
// returns an error wrapping ErrClosed. Failures to reach or use the storage
// wrap ErrStorageUnavailable (see Unavailable); the same Engine works again
// once the storage is back, without being reopened.
//
// The read methods return iterators that page through storage rather than
// load everything. Each range over them runs the read anew. A failure is
// yielded once, as a zero value with a non-nil error, and ends the sequence.
// Breaking out of the loop early releases whatever the read holds.
type Engine interface {
	// Initialize prepares storage: creates tables, indexes, buckets or
	// containers. It is idempotent and cheap to repeat, and must run before
	// any other method.
	Initialize(ctx context.Context) error

	// Commit stores attempt atomically and returns it with its checkpoint.
	//
	// It first validates attempt with ValidateAttempt. Then, enforced by the
	// storage's own atomic operations:
	//   - if the stream already holds a commit with attempt.CommitID, it
	//     returns an error wrapping ErrDuplicateCommit (whatever the commit
	//     sequence of the attempt);
	//   - otherwise, if the stream already holds a commit with
	//     attempt.CommitSequence, it returns an error wrapping ErrConcurrency.
	// The store only ever attempts the sequence after the stream's last one.
	// An attempt whose predecessor is missing may be stored or refused with
	// ErrConcurrency, as suits the storage.
	// Errors name the stream with a *StreamError (see CommitError). On any
	// error other than ErrStorageUnavailable nothing of the attempt is
	// visible, now or later. ErrStorageUnavailable can mean that the
	// storage applied the write but the answer was lost: the attempt is then
	// either wholly stored or not at all, and a retry with the same commit ID
	// tells which (ErrDuplicateCommit means it was stored).
	//
	// The engine must not keep the attempt pointer after Commit returns:
	// the store reuses the struct. Payload and Decoded are the engine's to
	// keep.
	Commit(ctx context.Context, attempt *CommitAttempt) (Commit, error)

	// ReadStream yields the commits of one stream that hold at least one
	// event in the revision range [minRevision, maxRevision], in commit
	// sequence order: from the commit holding minRevision to the commit
	// holding maxRevision, whole commits. maxRevision <= 0 means no upper
	// bound. A stream that does not exist yields nothing; the store, not
	// the engine, turns that into ErrStreamNotFound.
	ReadStream(ctx context.Context, bucketID, streamID string, minRevision, maxRevision int) iter.Seq2[Commit, error]

	// ReadAll yields the commits of every bucket whose checkpoint is
	// greater than after, in increasing checkpoint order. A caller that
	// polls again from the last checkpoint it received sees every commit
	// exactly once: a commit must not become visible to ReadAll after a
	// commit with a greater checkpoint has been yielded.
	ReadAll(ctx context.Context, after int64) iter.Seq2[Commit, error]

	// ReadBucket is ReadAll restricted to one bucket, with the same
	// guarantee.
	ReadBucket(ctx context.Context, bucketID string, after int64) iter.Seq2[Commit, error]

	// Undispatched yields the commits not yet marked dispatched, in
	// checkpoint order, found without scanning the whole store.
	Undispatched(ctx context.Context) iter.Seq2[Commit, error]

	// MarkDispatched records that c reached its dispatcher. Marking a commit
	// twice, or one that has since been deleted, is not an error.
	MarkDispatched(ctx context.Context, c Commit) error

	// LatestSnapshot returns the snapshot of the stream with the greatest
	// revision at or below maxRevision (maxRevision <= 0: no bound). With
	// none, it returns an error wrapping ErrSnapshotNotFound.
	LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (Snapshot, error)

	// AddSnapshot stores s after ValidateSnapshot, replacing any snapshot of
	// the same stream at the same revision. If the stream holds no commit
	// containing s.StreamRevision it returns an error wrapping
	// ErrStreamNotFound and stores nothing.
	AddSnapshot(ctx context.Context, s Snapshot) error

	// StreamsToSnapshot yields the heads of the bucket's streams whose head
	// revision is at least threshold events past their latest snapshot
	// (HeadRevision-SnapshotRevision >= threshold), in no particular order.
	StreamsToSnapshot(ctx context.Context, bucketID string, threshold int) iter.Seq2[StreamHead, error]

	// DeleteStream removes a stream's commits and snapshots. Deleting a
	// stream that does not exist is not an error. Checkpoints of deleted
	// commits are never reused.
	DeleteStream(ctx context.Context, bucketID, streamID string) error

	// Purge removes every commit and snapshot of every bucket. The storage
	// itself (tables, indexes) stays usable.
	Purge(ctx context.Context) error

	// PurgeBucket removes every commit and snapshot of one bucket.
	PurgeBucket(ctx context.Context, bucketID string) error

	// Drop removes the data and the storage Initialize created (tables,
	// collections, containers). Initialize makes the engine usable again.
	Drop(ctx context.Context) error

	// Close releases the engine's connections. Later calls fail with
	// ErrClosed. Close waits for calls in progress until ctx is done.
	Close(ctx context.Context) error
}
