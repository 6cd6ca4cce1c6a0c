package mongo

import (
	"bytes"
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// The concurrency rule
//
// Commit is a single InsertOne. The server's unique indexes decide:
// stream_commit (key, commitId) rejects a retried commit ID, stream_sequence
// (key, seq) rejects a second commit at the same sequence, and _id rejects a
// checkpoint someone else holds. A duplicate-key error is told apart by the
// index named in the server's message (MongoDB names it; FerretDB does not)
// and otherwise, or when the message names stream_sequence, by one lookup
// of the stream's commits with this commit ID or this sequence: a commit ID
// found means ErrDuplicateCommit (it wins over a conflict), a sequence found
// means ErrConcurrency, neither means the _id was taken and the insert is
// retried with a fresh checkpoint. A single-document insert is atomic, so a
// failed Commit leaves nothing behind.
//
// When the message names no index (FerretDB's never does), the first such
// error is not looked into: the insert is retried at once with a fresh
// checkpoint, as if the _id had been taken, and only a second error in a
// row costs the lookup. Among several processes writing to their own
// streams nearly every collision is a taken _id, and on FerretDB that
// lookup is a pass over the collection, while a retry is one insert; a
// real conflict or a retried commit ID fails the retry too (the unique
// indexes still refuse it), and is then told by the lookup, one insert
// later. A lookup that finds the _id was taken earns the next collision
// another retry without one.

// maxCheckpointAttempts bounds the retries of one commit after duplicate
// _id errors; from the loadCollisions-th on, each retry starts above the
// greatest _id stored (checkpoint.go), so only a crowd of writers in other
// processes can exhaust it.
const maxCheckpointAttempts = 64

// errCheckpointContention is returned when maxCheckpointAttempts ran out.
var errCheckpointContention = errors.New("mongo: no free checkpoint after repeated attempts")

// Commit stores a as one document whose _id is its checkpoint. It costs one
// round trip unless the insert fails (see above).
func (e *engine) Commit(ctx context.Context, a *driver.CommitAttempt) (driver.Commit, error) {
	return e.insert(ctx, a, true)
}

// CommitDispatched is Commit with the document stored without its
// undispatched flag.
func (e *engine) CommitDispatched(ctx context.Context, a *driver.CommitAttempt) (driver.Commit, error) {
	return e.insert(ctx, a, false)
}

// insert is Commit, the document's undispatched flag set as given.
func (e *engine) insert(ctx context.Context, a *driver.CommitAttempt, undispatched bool) (driver.Commit, error) {
	e.purgeMu.RLock()
	defer e.purgeMu.RUnlock()
	doc := newCommitDoc(a, undispatched)
	unexplained := 0 // duplicate-key errors in a row that named no index (see above)
	floor, err := e.predecessor(ctx, &doc)
	if err != nil {
		return driver.Commit{}, err
	}
	for n := 1; n <= maxCheckpointAttempts; n++ {
		cp, err := e.nextCheckpoint(ctx, floor)
		if err != nil {
			return driver.Commit{}, err
		}
		doc.ID = cp
		_, err = e.commits.InsertOne(ctx, &doc)
		if err == nil {
			e.stored.Add(1)
			e.heads.put(doc.Key, doc.Seq, cp)
			return driver.Commit{CommitAttempt: *a, Checkpoint: cp}, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return driver.Commit{}, err
		}
		if duplicateIndex(err) == "" {
			if unexplained++; unexplained == 1 {
				// Retry without a lookup: most likely the _id was taken.
				if err := e.skipCheckpoint(ctx, cp, n); err != nil {
					return driver.Commit{}, err
				}
				continue
			}
			unexplained = 0
		}
		if err := e.duplicateCause(ctx, &doc, err); err != nil {
			return driver.Commit{}, err
		}
		// The checkpoint was taken: move ahead (checkpoint.go).
		if err := e.skipCheckpoint(ctx, cp, n); err != nil {
			return driver.Commit{}, err
		}
	}
	return driver.Commit{}, errCheckpointContention
}

// duplicateCause tells which unique index rejected doc: it returns
// ErrDuplicateCommit or ErrConcurrency, nil when only the checkpoint (_id)
// was taken, or the error of the lookup.
func (e *engine) duplicateCause(ctx context.Context, doc *commitDoc, dupErr error) error {
	switch duplicateIndex(dupErr) {
	case idxCommitID:
		return driver.ErrDuplicateCommit
	case idxID:
		return nil
	}
	// At most two documents match: one per unique index.
	filter := bson.D{kv(fKey, doc.Key), kv("$or", bson.A{bson.D{kv(fCommitID, doc.CommitID)}, bson.D{kv(fSeq, doc.Seq)}})}
	found, err := find(ctx, e.commits, filter, nil, idxSequence, 2, bson.D{kv(fCommitID, 1), kv(fSeq, 1)})
	if err != nil {
		return err
	}
	for _, f := range found {
		if bytes.Equal(f.CommitID.Data, doc.CommitID.Data) {
			return driver.ErrDuplicateCommit
		}
	}
	if len(found) > 0 {
		return driver.ErrConcurrency
	}
	return nil
}
