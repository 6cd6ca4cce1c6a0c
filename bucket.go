package eventstore

import (
	"context"
	"iter"

	"github.com/goeventstore/eventstore/persistence"
)

// Bucket is a namespace of streams within a store: a tenant, a partition, a
// bounded context. The same stream ID in two buckets names two streams.
// Checkpoints are store-wide, so a bucket's commits have gaps between their
// checkpoints. Get one with [Store.Bucket]. Safe for concurrent use.
type Bucket struct {
	store *Store
	id    string
}

// ID returns the bucket's name.
func (b *Bucket) ID() string { return b.id }

// CreateStream returns a new, empty stream without reading storage. If the
// stream exists already, its first commit fails with ErrConcurrency (and
// the stream refreshes itself with what is stored).
func (b *Bucket) CreateStream(streamID string) (*Stream, error) {
	if err := b.validate("create stream", streamID, 0); err != nil {
		return nil, err
	}
	return &Stream{store: b.store, bucketID: b.id, streamID: streamID}, nil
}

// OpenStream reads the events of a stream with revisions in [minRevision,
// maxRevision]; maxRevision <= 0 reads to the end. Revisions count events
// from 1. With minRevision 0 a stream that does not exist is returned empty
// (open or create); with minRevision > 0 it is an error wrapping
// ErrStreamNotFound.
//
// A stream opened with a maxRevision that falls inside a commit is
// partial: its first CommitChanges refreshes it to the end and fails with
// ErrConcurrency, since committing after a partial view would claim a
// commit sequence already taken.
func (b *Bucket) OpenStream(ctx context.Context, streamID string, minRevision, maxRevision int) (*Stream, error) {
	if err := b.validate("open stream", streamID, minRevision); err != nil {
		return nil, err
	}
	if err := persistence.ValidateRange(minRevision, maxRevision); err != nil {
		return nil, &StreamError{Op: "open stream", BucketID: b.id, StreamID: streamID, Revision: minRevision, Err: err}
	}
	st := &Stream{store: b.store, bucketID: b.id, streamID: streamID}
	if err := st.load(ctx, minRevision, maxRevision); err != nil {
		return nil, err
	}
	if minRevision > 0 && st.revision == 0 {
		return nil, &StreamError{Op: "open stream", BucketID: b.id, StreamID: streamID, Revision: minRevision, Err: ErrStreamNotFound}
	}
	return st, nil
}

// OpenStreamFromSnapshot returns the stream of snap as of the snapshot, plus
// the events committed after it, up to maxRevision (<= 0: to the end). The
// stream holds only those later events; its revision and commit sequence
// are those of the whole stream. The snapshot's state is in snap.Payload.
// snap.BucketID must be empty or this bucket's ID.
func (b *Bucket) OpenStreamFromSnapshot(ctx context.Context, snap Snapshot, maxRevision int) (*Stream, error) {
	const op = "open stream from snapshot"
	if err := b.validateSnapshot(op, &snap); err != nil {
		return nil, err
	}
	if maxRevision > 0 && maxRevision < snap.StreamRevision {
		return nil, &StreamError{Op: op, BucketID: b.id, StreamID: snap.StreamID, Revision: snap.StreamRevision,
			Err: &ValidationError{Field: "maxRevision", Value: maxRevision, Reason: "must not be below the snapshot's revision"}}
	}
	st := &Stream{store: b.store, bucketID: b.id, streamID: snap.StreamID, revision: snap.StreamRevision}
	if err := st.loadFrom(ctx, snap.StreamRevision, snap.StreamRevision+1, maxRevision); err != nil {
		return nil, err
	}
	if st.sequence == 0 {
		return nil, &StreamError{Op: op, BucketID: b.id, StreamID: snap.StreamID, Revision: snap.StreamRevision, Err: ErrStreamNotFound}
	}
	return st, nil
}

// Commits yields the bucket's commits whose checkpoint is greater than
// after, in checkpoint order, through the select hooks. See Store.Commits.
func (b *Bucket) Commits(ctx context.Context, after int64) iter.Seq2[Commit, error] {
	if err := b.validateBucket("read bucket"); err != nil {
		return errSeq[Commit](err)
	}
	return b.store.readCommits(ctx, "read bucket", b.id, b.store.engine.ReadBucket(ctx, b.id, after))
}

// StreamsToSnapshot yields the heads of the bucket's streams whose head
// revision is at least threshold events past their latest snapshot, in no
// particular order.
func (b *Bucket) StreamsToSnapshot(ctx context.Context, threshold int) iter.Seq2[StreamHead, error] {
	if err := b.validateBucket("streams to snapshot"); err != nil {
		return errSeq[StreamHead](err)
	}
	if threshold <= 0 {
		return errSeq[StreamHead](&StreamError{Op: "streams to snapshot", BucketID: b.id,
			Err: &ValidationError{Field: "threshold", Value: threshold, Reason: "must be positive"}})
	}
	return b.store.engine.StreamsToSnapshot(ctx, b.id, threshold)
}

// DeleteStream removes a stream, its commits and its snapshots, then calls
// the OnDeleteStream hooks. Deleting a stream that does not exist is not an
// error.
func (b *Bucket) DeleteStream(ctx context.Context, streamID string) error {
	if err := b.validate("delete stream", streamID, 0); err != nil {
		return err
	}
	if err := b.store.engine.DeleteStream(ctx, b.id, streamID); err != nil {
		return streamErr("delete stream", b.id, streamID, 0, err)
	}
	b.store.hooks.onDeleteStream(ctx, b.id, streamID)
	return nil
}

// Purge removes every commit and snapshot of the bucket, then calls the
// OnPurge hooks with the bucket's ID.
func (b *Bucket) Purge(ctx context.Context) error {
	if err := b.validateBucket("purge bucket"); err != nil {
		return err
	}
	if err := b.store.engine.PurgeBucket(ctx, b.id); err != nil {
		return streamErr("purge bucket", b.id, "", 0, err)
	}
	b.store.hooks.onPurge(ctx, b.id)
	return nil
}

// validate checks that the store is open and the bucket and stream IDs are
// valid.
func (b *Bucket) validate(op, streamID string, revision int) error {
	return b.check(op, streamID, revision, true)
}

// validateBucket is validate for operations on the whole bucket.
func (b *Bucket) validateBucket(op string) error { return b.check(op, "", 0, false) }

func (b *Bucket) check(op, streamID string, revision int, stream bool) error {
	if b.store.closed.Load() {
		return &StreamError{Op: op, BucketID: b.id, StreamID: streamID, Revision: revision, Err: ErrClosed}
	}
	err := persistence.ValidateID("BucketID", b.id)
	if err == nil && stream {
		err = persistence.ValidateID("StreamID", streamID)
	}
	if err != nil {
		return &StreamError{Op: op, BucketID: b.id, StreamID: streamID, Revision: revision, Err: err}
	}
	return nil
}

// errSeq is a sequence that yields err once.
func errSeq[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}
