package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/goeventstore/eventstore/persistence"
)

// AddSnapshot stores snap, serialized with the store's serializer,
// replacing any snapshot of the stream at the same revision. snap.BucketID
// must be empty or this bucket's ID. The stream must hold the snapshot's
// revision, or the error wraps ErrStreamNotFound. A nil Payload, or one
// the serializer cannot encode, is a *ValidationError.
func (b *Bucket) AddSnapshot(ctx context.Context, snap Snapshot) error {
	const op = "add snapshot"
	if err := b.validateSnapshot(op, &snap); err != nil {
		return err
	}
	fail := func(err error) error {
		return &StreamError{Op: op, BucketID: b.id, StreamID: snap.StreamID, Revision: snap.StreamRevision, Err: err}
	}
	if isNil(snap.Payload) {
		return fail(&ValidationError{Field: "Snapshot.Payload", Reason: "must not be nil"})
	}
	data, err := b.store.ser.MarshalSnapshot(snap.Payload)
	if err != nil {
		if _, ok := errors.AsType[*ValidationError](err); ok {
			return fail(err)
		}
		return fail(&ValidationError{Field: "Snapshot.Payload", Value: fmt.Sprintf("%T", snap.Payload), Reason: "cannot be serialized: " + err.Error()})
	}
	ps := persistence.Snapshot{BucketID: b.id, StreamID: snap.StreamID, StreamRevision: snap.StreamRevision, Payload: data}
	if err := b.store.engine.AddSnapshot(ctx, ps); err != nil {
		return streamErr(op, b.id, snap.StreamID, snap.StreamRevision, err)
	}
	return nil
}

// LatestSnapshot returns the stream's snapshot with the greatest revision at
// or below maxRevision (<= 0: no bound), deserialized. With none, the error
// wraps ErrSnapshotNotFound.
func (b *Bucket) LatestSnapshot(ctx context.Context, streamID string, maxRevision int) (Snapshot, error) {
	const op = "latest snapshot"
	if err := b.validate(op, streamID, maxRevision); err != nil {
		return Snapshot{}, err
	}
	ps, err := b.store.engine.LatestSnapshot(ctx, b.id, streamID, maxRevision)
	if err != nil {
		return Snapshot{}, streamErr(op, b.id, streamID, maxRevision, err)
	}
	state, err := b.store.unmarshalSnapshot(ps.Payload)
	if err != nil {
		return Snapshot{}, &StreamError{Op: op, BucketID: b.id, StreamID: streamID, Revision: ps.StreamRevision,
			Err: fmt.Errorf("%w: decoding snapshot payload: %w", ErrCorrupt, err)}
	}
	return Snapshot{BucketID: b.id, StreamID: streamID, StreamRevision: ps.StreamRevision, Payload: state}, nil
}

// validateSnapshot checks the store, the IDs and the revision of snap, and
// fills in an empty BucketID.
func (b *Bucket) validateSnapshot(op string, snap *Snapshot) error {
	if err := b.validate(op, snap.StreamID, snap.StreamRevision); err != nil {
		return err
	}
	fail := func(err error) error {
		return &StreamError{Op: op, BucketID: b.id, StreamID: snap.StreamID, Revision: snap.StreamRevision, Err: err}
	}
	if snap.BucketID != "" && snap.BucketID != b.id {
		return fail(&ValidationError{Field: "Snapshot.BucketID", Value: snap.BucketID, Reason: "differs from the bucket " + b.id})
	}
	if snap.StreamRevision <= 0 {
		return fail(&ValidationError{Field: "Snapshot.StreamRevision", Value: snap.StreamRevision, Reason: "must be positive"})
	}
	snap.BucketID = b.id
	return nil
}

// Snapshot returns a snapshot of the stream at its current revision
// holding state, ready for Store.AddSnapshot.
func (st *Stream) Snapshot(state any) Snapshot {
	return Snapshot{BucketID: st.bucketID, StreamID: st.streamID, StreamRevision: st.revision, Payload: state}
}
