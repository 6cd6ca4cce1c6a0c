package eventstore

import (
	"errors"
	"fmt"

	"github.com/goeventstore/eventstore/persistence"
)

// Sentinel errors. They are the very values package persistence defines, so
// an error from an engine matches them with errors.Is as well. Every error the
// store returns for a stream is a [*StreamError] naming the bucket, the stream
// and the revision involved, wrapping one of these.
var (
	// ErrConcurrency reports that another writer extended the stream first.
	// CommitChanges has already refreshed the stream with what was
	// committed; its uncommitted events are kept, so the caller can look at
	// the stream again and retry with a new commit ID, or give up.
	ErrConcurrency = persistence.ErrConcurrency
	// ErrDuplicateCommit reports that the commit ID is already stored on the
	// stream: the work was done before, and the attempt was ignored.
	ErrDuplicateCommit = persistence.ErrDuplicateCommit
	// ErrStreamNotFound reports that a stream holds no commits in the range
	// asked for (OpenStream with a minimum revision above 0, AddSnapshot for
	// a revision the stream does not have).
	ErrStreamNotFound = persistence.ErrStreamNotFound
	// ErrSnapshotNotFound reports that a stream has no snapshot at or below
	// the revision asked for.
	ErrSnapshotNotFound = persistence.ErrSnapshotNotFound
	// ErrStorageUnavailable reports that the storage could not be reached or
	// did not answer within the operation timeout; the driver's error is
	// wrapped too. It is transient: retry once the storage is back.
	ErrStorageUnavailable = persistence.ErrStorageUnavailable
	// ErrPermissionDenied reports that the storage refused the credentials
	// or the operation. Fix the grants; retrying will not help.
	ErrPermissionDenied = persistence.ErrPermissionDenied
	// ErrNotInitialized reports that the tables (collections, buckets) the
	// engine needs do not exist: Build initializes them, New does not.
	ErrNotInitialized = persistence.ErrNotInitialized
	// ErrMisconfigured reports a configuration that cannot work (an unknown
	// database, a server lacking a feature the engine needs).
	ErrMisconfigured = persistence.ErrMisconfigured
	// ErrStorage reports any other failure of the storage, not known to be
	// transient.
	ErrStorage = persistence.ErrStorage
	// ErrOutcomeUnknown is matched, besides ErrStorageUnavailable (or
	// ErrStorage, or the context's error), by a commit error after which the
	// commit may have been stored: a deadline or cancellation during the
	// write, a lost answer, a dropped connection. The commit is then stored
	// wholly or not at all. Retry with the same commit ID to find out:
	// success or ErrDuplicateCommit both mean it is stored, once. See
	// CommitChanges for the errors that guarantee nothing was written.
	ErrOutcomeUnknown = persistence.ErrOutcomeUnknown
	// ErrUnsupported reports an operation the engine has no capability for
	// (see persistence.Engine.Supports).
	ErrUnsupported = persistence.ErrUnsupported
	// ErrClosed reports use of a store after Close.
	ErrClosed = persistence.ErrClosed
	// ErrInvalid is matched by every [*ValidationError]: bad input, nothing
	// written.
	ErrInvalid = persistence.ErrInvalid
)

// ErrVetoed reports that a pre-commit hook refused a commit. The error
// returned by CommitChanges wraps both ErrVetoed and the hook's own error;
// nothing was written and the uncommitted events are kept.
var ErrVetoed = errors.New("commit vetoed by a pre-commit hook")

// ErrDecrypt reports that an encrypted payload could not be decrypted: the
// key is wrong or the data was altered. It is never returned as garbage.
var ErrDecrypt = errors.New("cannot decrypt payload: wrong key or altered data")

// ErrCorrupt reports a stored commit that cannot be decoded: its payload is
// garbage, empty or of the wrong shape, holds another number of events
// than the commit says, or was encrypted with a key this store does not
// have (then the error matches [ErrDecrypt] too). The error is a
// [*CorruptCommitError] carrying the commit's coordinates and checkpoint.
// A stored snapshot that cannot be decoded matches it too (the error is
// then a [*StreamError] naming the stream and the snapshot's revision).
var ErrCorrupt = errors.New("stored commit cannot be decoded")

// CorruptCommitError reports a stored commit that cannot be decoded. It
// matches [ErrCorrupt] and the cause with errors.Is, and errors.As also
// finds a [*StreamError] with the same coordinates in it, as for any other
// error on a stream. Checkpoint says where a reader of [Store.Commits] can
// go on from, past the commit (see the package documentation, Poison
// commits).
type CorruptCommitError struct {
	BucketID       string
	StreamID       string
	StreamRevision int // the revision of the commit's last event
	CommitSequence int
	CommitID       UUID
	Checkpoint     int64
	Err            error // the cause
}

// Error names the commit and the cause.
func (e *CorruptCommitError) Error() string {
	return fmt.Sprintf("eventstore: corrupt commit: bucket %q stream %q revision %d commit sequence %d commit %s checkpoint %d: %v",
		e.BucketID, e.StreamID, e.StreamRevision, e.CommitSequence, e.CommitID, e.Checkpoint, e.Err)
}

// Unwrap returns ErrCorrupt and the cause.
func (e *CorruptCommitError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// As sets a **StreamError target to a StreamError with e's coordinates.
func (e *CorruptCommitError) As(target any) bool {
	p, ok := target.(**StreamError)
	if ok {
		*p = &StreamError{Op: "read", BucketID: e.BucketID, StreamID: e.StreamID, Revision: e.StreamRevision,
			CommitSequence: e.CommitSequence, CommitID: e.CommitID, Err: e}
	}
	return ok
}

// StreamError reports a failed operation on one stream: it names the
// operation, the bucket, the stream and, where they apply, the revision,
// commit sequence and commit ID, and wraps the cause. Use errors.As to get
// at the coordinates and errors.Is to test the cause.
type StreamError = persistence.StreamError

// ValidationError reports bad input: which field, what value and why. It
// matches [ErrInvalid]. Nothing is written when it is returned.
type ValidationError = persistence.ValidationError

// streamErr wraps err with the stream's coordinates, unless it already
// carries them.
func streamErr(op, bucketID, streamID string, revision int, err error) error {
	var se *StreamError
	if errors.As(err, &se) {
		return err
	}
	return &StreamError{Op: op, BucketID: bucketID, StreamID: streamID, Revision: revision, Err: err}
}
