package driver

import (
	"errors"
)

// The outcomes of the rules an engine enforces. Engines return them, wrapped
// or not; package persistence re-exports them for callers.
var (
	// ErrConcurrency: another commit already holds the commit sequence this
	// one claims.
	ErrConcurrency = errors.New("concurrency conflict")
	// ErrDuplicateCommit: the stream already holds a commit with this commit
	// ID; the attempt is a retry and was ignored.
	ErrDuplicateCommit = errors.New("duplicate commit")
	// ErrStreamNotFound: the stream holds no commits in the range asked for.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrSnapshotNotFound: no snapshot at or below the revision asked for.
	ErrSnapshotNotFound = errors.New("snapshot not found")
)

// Error classes: what a failure of the storage means for the caller. The
// portable layer gives every storage error exactly one of them (see
// ErrorClassifier).
var (
	// ErrStorageUnavailable: the storage could not be reached or did not
	// answer in time. It is transient: the same call may succeed once the
	// storage is back, without reopening anything.
	ErrStorageUnavailable = errors.New("storage unavailable")
	// ErrPermissionDenied: the storage refused the credentials or the
	// operation. Retrying will not help; fix the grants.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrNotInitialized: the storage the engine needs (a table, a
	// collection, a bucket) does not exist. Run Initialize.
	ErrNotInitialized = errors.New("storage not initialized")
	// ErrMisconfigured: the engine's configuration names something that
	// cannot work (an unknown database, a bad endpoint, a server that lacks
	// a feature the engine relies on).
	ErrMisconfigured = errors.New("storage misconfigured")
	// ErrStorage: any other failure of the storage, not known to be
	// transient.
	ErrStorage = errors.New("storage failed")
)

// ErrOutcomeUnknown: a commit failed after its write may have reached the
// storage (a deadline or cancellation during the write, a lost answer, a
// dropped connection), so it is either wholly stored or not at all, and
// nobody knows which. The portable layer adds it to every commit error
// that does not guarantee that nothing was written; an engine may also
// return it itself. Retrying with the same commit ID resolves it: success
// or ErrDuplicateCommit both mean the commit is stored once.
var ErrOutcomeUnknown = errors.New("commit outcome unknown")

// ErrUnsupported: the engine does not implement the capability a method
// needs.
var ErrUnsupported = errors.New("not supported by this engine")

// ErrPageCut: ReadCommits stopped before the end of what it could return
// because the call's time ran out while it waited for a writer (a slot not
// yet decided, a hole a write may still fill). It is returned with the
// commits read before that point, a page shorter than Limit (perhaps
// empty), which then does not mean "nothing more": the portable layer
// yields them and asks again after the last one, in a new call with a
// time of its own, for as long as its caller waits. An engine that never
// waits for writers never returns it.
var ErrPageCut = errors.New("page cut short waiting for a writer")
