package persistence

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Engines wrap them; callers test them with errors.Is.
var (
	// ErrConcurrency reports that another commit already holds the commit
	// sequence (or revision) this one claims: someone else extended the
	// stream first.
	ErrConcurrency = errors.New("concurrency conflict")
	// ErrDuplicateCommit reports that a commit with the same commit ID is
	// already stored on the stream: the attempt is a retry and was ignored.
	ErrDuplicateCommit = errors.New("duplicate commit")
	// ErrStreamNotFound reports that a stream holds no commits in the range
	// asked for.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrSnapshotNotFound reports that a stream has no snapshot at or below
	// the revision asked for.
	ErrSnapshotNotFound = errors.New("snapshot not found")
	// ErrStorageUnavailable reports that the storage could not be reached or
	// failed. The driver's error is wrapped as well. The operation may be
	// retried once the storage is back.
	ErrStorageUnavailable = errors.New("storage unavailable")
	// ErrClosed reports use of an engine or store after Close.
	ErrClosed = errors.New("store is closed")
	// ErrInvalid is matched by every *ValidationError.
	ErrInvalid = errors.New("invalid argument")
)

// StreamError reports a failed operation on one stream. It names the bucket,
// the stream and, where they apply, the revision and commit sequence, and it
// wraps the cause (one of the sentinel errors, usually).
type StreamError struct {
	Op             string // "commit", "read stream", "add snapshot", ...
	BucketID       string
	StreamID       string
	Revision       int  // the revision involved; 0 if none
	CommitSequence int  // the commit sequence involved; 0 if none
	CommitID       UUID // the commit ID involved; zero if none
	Err            error
}

// Error formats the operation, the stream coordinates and the cause.
func (e *StreamError) Error() string {
	var b strings.Builder
	b.WriteString("eventstore: ")
	b.WriteString(e.Op)
	fmt.Fprintf(&b, " bucket %q stream %q", e.BucketID, truncateID(e.StreamID))
	if e.Revision != 0 {
		fmt.Fprintf(&b, " revision %d", e.Revision)
	}
	if e.CommitSequence != 0 {
		fmt.Fprintf(&b, " commit sequence %d", e.CommitSequence)
	}
	if !e.CommitID.IsZero() {
		fmt.Fprintf(&b, " commit %s", e.CommitID)
	}
	b.WriteString(": ")
	// A wrapped error of this package (a *ValidationError, say) carries the
	// same prefix: say it once.
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "eventstore: "))
	return b.String()
}

// Unwrap returns the cause.
func (e *StreamError) Unwrap() error { return e.Err }

// CommitError returns a *StreamError for a failed commit attempt.
func CommitError(a *CommitAttempt, err error) error {
	return &StreamError{
		Op: "commit", BucketID: a.BucketID, StreamID: a.StreamID,
		Revision: a.StreamRevision, CommitSequence: a.CommitSequence, CommitID: a.CommitID,
		Err: err,
	}
}

// Unavailable wraps a driver error so that it matches both
// ErrStorageUnavailable and the driver's own error. op says what was being
// done ("commit", "read all", ...).
func Unavailable(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrStorageUnavailable) {
		return err
	}
	return &unavailableError{op: op, err: err}
}

type unavailableError struct {
	op  string
	err error
}

func (e *unavailableError) Error() string {
	return "eventstore: " + e.op + ": " + ErrStorageUnavailable.Error() + ": " + e.err.Error()
}

func (e *unavailableError) Unwrap() []error { return []error{ErrStorageUnavailable, e.err} }

// ValidationError reports bad input: which field, what value, and why. It
// matches ErrInvalid with errors.Is. Nothing is written when it is returned.
type ValidationError struct {
	Field  string // "StreamID", "CommitID", ...
	Value  any    // the offending value, shortened if long; nil if not useful
	Reason string // "must not be empty", ...
}

// Error formats the field, value and reason.
func (e *ValidationError) Error() string {
	if e.Value != nil {
		v := fmt.Sprint(e.Value)
		return fmt.Sprintf("eventstore: invalid %s %q: %s", e.Field, truncateID(v), e.Reason)
	}
	return fmt.Sprintf("eventstore: invalid %s: %s", e.Field, e.Reason)
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// truncateID shortens very long IDs in messages.
func truncateID(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max]) + fmt.Sprintf("…(%d characters)", len(r))
}
