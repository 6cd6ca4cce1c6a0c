package driver

import (
	"context"
)

// Engine is the required core of a storage engine: store a commit, read a
// stream, read commits in checkpoint order. Its methods are called
// concurrently, only with valid input (see the package documentation), never
// with a done context and never after Close.
//
// Reads return one page: at most Limit commits, as a slice the engine no
// longer refers to (the portable layer clears it and reuses it, for later
// pages of the read and for other reads). A page shorter than Limit means
// there is nothing more right now (unless ReadCommits returns it with
// ErrPageCut); the portable layer asks for the next page from the last
// item.
type Engine interface {
	// Commit stores a atomically and returns it with the checkpoint it got.
	//
	// If the stream already holds a commit with a.CommitID it returns an
	// error wrapping ErrDuplicateCommit (whatever a.CommitSequence is);
	// otherwise, if the stream already holds a.CommitSequence, an error
	// wrapping ErrConcurrency. The portable layer only attempts the sequence
	// after the stream's last one; an attempt whose predecessor is missing
	// may be stored or refused with ErrConcurrency, as suits the storage.
	//
	// On ErrConcurrency, ErrDuplicateCommit or a context error returned
	// before anything was sent, nothing of a is visible, now or later. Any
	// other error may mean the storage applied the write and the answer was
	// lost: a is then either wholly stored or not at all, and a retry with
	// the same commit ID tells which. The portable layer marks such errors
	// with ErrOutcomeUnknown (and an engine may return it itself).
	//
	// a is valid only during the call: copy what you keep (a.Payload may be
	// kept as it is: the caller never changes it).
	Commit(ctx context.Context, a *CommitAttempt) (Commit, error)

	// ReadStream returns, in commit sequence order, up to q.Limit commits of
	// one stream with a sequence greater than q.AfterSequence that hold at
	// least one event in [q.MinRevision, q.MaxRevision]: whole commits, from
	// the commit holding MinRevision on. A stream that does not exist
	// yields an empty page (the store turns that into ErrStreamNotFound).
	ReadStream(ctx context.Context, q StreamQuery) ([]Commit, error)

	// ReadCommits returns, in strictly increasing checkpoint order, up to
	// q.Limit commits with a checkpoint greater than q.After, of bucket
	// q.BucketID or of every bucket if it is empty.
	//
	// A caller that asks again from the last checkpoint it received sees
	// every commit exactly once: a commit must never become visible to
	// ReadCommits after a commit with a greater checkpoint has been
	// returned (see "Late commits" in the package documentation).
	//
	// An engine that waits for a writer before it can go on (an undecided
	// slot, a hole that a write may still fill) and runs out of the call's
	// time returns the commits before that point with ErrPageCut, so that
	// the read is not taken to have ended there.
	ReadCommits(ctx context.Context, q CommitQuery) ([]Commit, error)
}

// StreamQuery selects one page of a stream's commits.
type StreamQuery struct {
	BucketID, StreamID string
	// MinRevision is at least 1; MaxRevision is at least MinRevision (the
	// portable layer passes math.MaxInt for "to the end").
	MinRevision, MaxRevision int
	// AfterSequence is 0 for the first page, then the CommitSequence of the
	// last commit of the previous page.
	AfterSequence int
	// Limit is at least 1.
	Limit int
	// Buf is nil (the first page) or an empty slice with room for Limit
	// commits, which the portable layer no longer uses (the previous page
	// of the same read, or a new one when the page grew): an engine may
	// append the page to it rather than allocate one, or ignore it.
	Buf []Commit
}

// CommitQuery selects one page of commits in checkpoint order.
type CommitQuery struct {
	// BucketID restricts the page to one bucket; empty means every bucket.
	BucketID string
	// After is the checkpoint the page starts after (0: the beginning).
	After int64
	// Limit is at least 1.
	Limit int
	// Buf is nil or the previous page of the same read, emptied (see
	// StreamQuery.Buf).
	Buf []Commit
}

// Initializer is implemented by engines that must prepare storage (tables,
// indexes, buckets) before use. Initialize is idempotent and cheap to
// repeat; the portable layer calls it from persistence.Engine.Initialize.
type Initializer interface {
	Initialize(ctx context.Context) error
}

// Closer is implemented by engines that hold resources. The portable layer
// calls Close once, after every call in progress has returned (or ctx is
// done).
type Closer interface {
	Close(ctx context.Context) error
}

// Snapshotter is implemented by engines that store snapshots.
type Snapshotter interface {
	// AddSnapshot stores s, replacing any snapshot of the same stream at the
	// same revision. If the stream holds no commit containing
	// s.StreamRevision it returns an error wrapping ErrStreamNotFound and
	// stores nothing.
	AddSnapshot(ctx context.Context, s Snapshot) error
	// LatestSnapshot returns the snapshot of the stream with the greatest
	// revision at or below maxRevision (the portable layer passes
	// math.MaxInt for "no bound"), or an error wrapping ErrSnapshotNotFound.
	LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (Snapshot, error)
	// StreamsToSnapshot returns a page of the heads of the bucket's streams
	// whose head revision is at least q.Threshold past their latest snapshot,
	// in an order of the engine's choosing, and the cursor of the next page
	// ("" when there is none). q.Cursor is "" for the first page, then a
	// cursor the engine returned. A page may be shorter than q.Limit (even
	// empty) with more to come; only an empty next cursor ends the scan.
	StreamsToSnapshot(ctx context.Context, q HeadQuery) (heads []StreamHead, next string, err error)
}

// HeadQuery selects one page of stream heads for snapshotting.
type HeadQuery struct {
	BucketID  string
	Threshold int // at least 1
	Cursor    string
	Limit     int // at least 1
}

// DispatchTracker is implemented by engines that record which commits have
// been dispatched, so that a store can dispatch what a crash left behind.
type DispatchTracker interface {
	// Undispatched returns, in checkpoint order, up to limit commits not yet
	// marked dispatched with a checkpoint greater than after, found without
	// scanning the whole store: the cost grows with the commits not yet
	// dispatched, not with the store.
	Undispatched(ctx context.Context, after int64, limit int) ([]Commit, error)
	// MarkDispatched records that c reached its dispatcher. Marking a commit
	// twice, or one that has since been deleted, is not an error.
	MarkDispatched(ctx context.Context, c Commit) error
}

// MaxDispatchBatch is the most commits the portable layer passes to one
// MarkDispatchedBatch call; it splits longer slices.
const MaxDispatchBatch = 500

// DispatchBatcher is implemented by DispatchTracker engines that can mark
// many commits dispatched in one round trip (one UPDATE, one UpdateMany).
// Without it the portable layer marks a batch with one MarkDispatched call
// per commit, which costs a round trip each: on a remote server that is
// what a copy or a relay marking thousands of commits waits for.
type DispatchBatcher interface {
	DispatchTracker
	// MarkDispatchedBatch records that every commit of cs reached its
	// dispatcher, as MarkDispatched does for each: marking a commit
	// twice, or one that has since been deleted, is not an error. cs
	// holds 1 to MaxDispatchBatch stored commits (Checkpoint > 0), in no
	// particular order, possibly with repeats. The call is bounded by the
	// administrative timeout, not the operation timeout. On an error, any
	// part of cs may have been marked: the caller marks the batch again.
	MarkDispatchedBatch(ctx context.Context, cs []Commit) error
}

// DispatchedCommitter is implemented by DispatchTracker engines that can
// store a commit already marked dispatched, in the one request of a
// Commit: a copy of a commit that reached its dispatcher elsewhere (the
// operator tool's copy and import) then costs no mark afterwards.
// Without it the portable layer commits, then marks.
type DispatchedCommitter interface {
	DispatchTracker
	// CommitDispatched is Commit, with the commit stored as dispatched:
	// Undispatched never yields it. Everything else is as Commit.
	CommitDispatched(ctx context.Context, a *CommitAttempt) (Commit, error)
}

// StreamDeleter is implemented by engines that delete streams.
type StreamDeleter interface {
	// DeleteStream removes a stream's commits and snapshots. Deleting a
	// stream that does not exist is not an error. Checkpoints of deleted
	// commits are never reused.
	DeleteStream(ctx context.Context, bucketID, streamID string) error
}

// Purger is implemented by engines that can empty themselves.
type Purger interface {
	// Purge removes every commit and snapshot of every bucket. Storage stays
	// usable, and checkpoints handed out before are never handed out again.
	Purge(ctx context.Context) error
	// PurgeBucket removes every commit and snapshot of one bucket.
	PurgeBucket(ctx context.Context, bucketID string) error
}

// Dropper is implemented by engines that can remove their storage.
type Dropper interface {
	// Drop removes the data and the storage Initialize created (tables,
	// collections, containers). Initialize makes the engine usable again.
	// The portable layer calls it with no other call of the engine in
	// progress, and makes no other call until it has returned (except for
	// an Immediate engine, which keeps Drop apart from its other calls
	// itself).
	Drop(ctx context.Context) error
}

// HeadReader is implemented by engines that know their greatest checkpoint
// cheaply (one indexed lookup).
type HeadReader interface {
	// Head returns the greatest checkpoint handed out to a visible commit, 0
	// if none.
	Head(ctx context.Context) (int64, error)
}

// ErrorClassifier is implemented by engines whose driver errors the
// portable layer cannot classify by itself (see Class).
type ErrorClassifier interface {
	// Classify returns the class of err, a driver error the engine
	// returned: one of ErrStorageUnavailable, ErrPermissionDenied,
	// ErrNotInitialized, ErrMisconfigured, ErrStorage, or nil if it does
	// not know (the portable layer then applies its defaults).
	Classify(err error) error
}

// Aser is implemented by engines that expose their native client. As
// reports whether it set *target (a pointer to a client type such as
// **sql.DB or **mongo.Client) and does nothing otherwise.
type Aser interface {
	As(target any) bool
}

// Immediate is implemented by engines whose calls never wait: they do no
// I/O and ignore their context (an engine in the caller's memory). The
// portable layer calls them without the operation timeout and without
// counting them for Close, which would cost a good part of the call: Close
// may then run while calls are still in progress, and must leave the
// engine safe for them to finish (on emptied storage, say). Nor does it
// keep Drop apart from their other calls (see Dropper).
type Immediate interface {
	Immediate()
}

// ValueCommitter is implemented by engines that live in the caller's process
// and can keep, beside a commit's payload, the caller's in-process form of
// it, to return it in Commit.Value on reads so that decoding can be skipped.
// Engines that store bytes do not implement it.
type ValueCommitter interface {
	// CommitValue is Commit, keeping v with the commit.
	CommitValue(ctx context.Context, a *CommitAttempt, v any) (Commit, error)
}
