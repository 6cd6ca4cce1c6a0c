package persistence

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Sentinel errors; callers test them with errors.Is. The first four are the
// outcomes of the engine's rules, the next five the classes of storage
// failures (every error from the storage matches exactly one of them), the
// last three the portable layer's own.
var (
	// ErrConcurrency reports that another commit already holds the commit
	// sequence (or revision) this one claims: someone else extended the
	// stream first.
	ErrConcurrency = driver.ErrConcurrency
	// ErrDuplicateCommit reports that a commit with the same commit ID is
	// already stored on the stream: the attempt is a retry and was ignored.
	ErrDuplicateCommit = driver.ErrDuplicateCommit
	// ErrStreamNotFound reports that a stream holds no commits in the range
	// asked for.
	ErrStreamNotFound = driver.ErrStreamNotFound
	// ErrSnapshotNotFound reports that a stream has no snapshot at or below
	// the revision asked for.
	ErrSnapshotNotFound = driver.ErrSnapshotNotFound

	// ErrStorageUnavailable reports that the storage could not be reached or
	// did not answer within the operation timeout. It is transient: the
	// operation may be retried once the storage is back, with the same
	// Engine. The driver's error is wrapped as well.
	ErrStorageUnavailable = driver.ErrStorageUnavailable
	// ErrPermissionDenied reports that the storage refused the credentials
	// or the operation: fix the grants; retrying will not help.
	ErrPermissionDenied = driver.ErrPermissionDenied
	// ErrNotInitialized reports that the storage the engine needs (a table,
	// a collection, a bucket) does not exist: run Initialize.
	ErrNotInitialized = driver.ErrNotInitialized
	// ErrMisconfigured reports a configuration that cannot work (an unknown
	// database, a server lacking a feature the engine needs).
	ErrMisconfigured = driver.ErrMisconfigured
	// ErrStorage reports any other failure of the storage, not known to be
	// transient.
	ErrStorage = driver.ErrStorage

	// ErrOutcomeUnknown is matched, besides its class (or context error),
	// by every Commit error after which the commit may have been stored:
	// it is then stored wholly or not at all, and retrying with the same
	// commit ID tells which (success, or ErrDuplicateCommit: stored once).
	// Only these commit errors guarantee that nothing was written:
	// ErrConcurrency, ErrDuplicateCommit (an earlier commit with the ID is
	// stored), ErrInvalid, ErrClosed, ErrPermissionDenied,
	// ErrNotInitialized, ErrMisconfigured, ErrUnsupported, and a context
	// error from a context already done when Commit was called. Every
	// other commit error, ErrStorageUnavailable and ErrStorage included,
	// also matches ErrOutcomeUnknown.
	ErrOutcomeUnknown = driver.ErrOutcomeUnknown

	// ErrClosed reports use of an engine or store after Close.
	ErrClosed = errors.New("store is closed")
	// ErrInvalid is matched by every *ValidationError.
	ErrInvalid = errors.New("invalid argument")
	// ErrUnsupported reports a method whose capability the engine lacks
	// (see Engine.Supports).
	ErrUnsupported = driver.ErrUnsupported
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

// commitError returns a *StreamError for a failed commit attempt.
func commitError(a *CommitAttempt, err error) error {
	return &StreamError{
		Op: "commit", BucketID: a.BucketID, StreamID: a.StreamID,
		Revision: a.StreamRevision, CommitSequence: a.CommitSequence, CommitID: a.CommitID,
		Err: err,
	}
}

// classError wraps a storage error so that it matches its class (one of the
// class sentinels) and the driver's own error.
type classError struct {
	op    string
	class error
	err   error
}

func (e *classError) Error() string {
	msg := e.err.Error()
	if e.op != "" {
		return "eventstore: " + e.op + ": " + e.class.Error() + ": " + msg
	}
	return e.class.Error() + ": " + msg
}

func (e *classError) Unwrap() []error { return []error{e.class, e.err} }

// notWritten lists the commit errors that guarantee nothing was written.
var notWritten = []error{
	ErrConcurrency, ErrDuplicateCommit, ErrInvalid, ErrClosed,
	ErrPermissionDenied, ErrNotInitialized, ErrMisconfigured, ErrUnsupported,
}

// outcomeUnknown returns err, the classified error of a commit whose write
// was attempted, marked with ErrOutcomeUnknown unless it guarantees that
// nothing was written.
func outcomeUnknown(err error) error {
	if errors.Is(err, ErrOutcomeUnknown) {
		return err
	}
	for _, k := range notWritten {
		if errors.Is(err, k) {
			return err
		}
	}
	return &unknownError{err}
}

// unknownError marks a commit error with ErrOutcomeUnknown.
type unknownError struct{ err error }

func (e *unknownError) Error() string {
	return e.err.Error() + " (the commit may have been stored: retry with the same commit ID to find out)"
}

func (e *unknownError) Unwrap() []error { return []error{ErrOutcomeUnknown, e.err} }

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
