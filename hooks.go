package eventstore

import (
	"context"
	"fmt"
)

// PipelineHook sees every commit on its way into and out of the store, as
// NEventStore's IPipelineHook does. Hooks run in the order they were
// registered. Implementations must be safe for concurrent use. Embed
// [HookFuncs] or use it directly to implement only some of the methods.
type PipelineHook interface {
	// SelectCommit is called for every commit read (opening a stream,
	// refreshing it after a conflict, Commits, dispatching what an earlier
	// run left undispatched). It returns the commit to pass on, possibly
	// changed (upconverted events), or keep=false to filter it out, in
	// which case later hooks do not see it. An error ends the read with it.
	// A hook that changes an event assigns a new Body rather than
	// modifying the old value in place: read commits may share bodies and
	// header maps with the in-memory engine.
	SelectCommit(ctx context.Context, c Commit) (out Commit, keep bool, err error)
	// PreCommit is called before a commit is written. A non-nil error
	// vetoes it: nothing is written and CommitChanges returns an error
	// wrapping ErrVetoed and this error. The attempt must not be modified.
	PreCommit(ctx context.Context, a CommitAttempt) error
	// PostCommit is called after a commit is stored, before it is handed
	// to the dispatcher.
	PostCommit(ctx context.Context, c Commit)
	// OnPurge is called after a purge: of one bucket, or of every bucket
	// when bucketID is empty.
	OnPurge(ctx context.Context, bucketID string)
	// OnDeleteStream is called after a stream is deleted.
	OnDeleteStream(ctx context.Context, bucketID, streamID string)
}

// HookFuncs is a PipelineHook made of optional functions. A nil function
// does nothing (SelectCommit keeps the commit unchanged), so the zero value
// is a hook that does nothing.
type HookFuncs struct {
	// SelectCommitFunc implements SelectCommit.
	SelectCommitFunc func(ctx context.Context, c Commit) (Commit, bool, error)
	// PreCommitFunc implements PreCommit.
	PreCommitFunc func(ctx context.Context, a CommitAttempt) error
	// PostCommitFunc implements PostCommit.
	PostCommitFunc func(ctx context.Context, c Commit)
	// OnPurgeFunc implements OnPurge.
	OnPurgeFunc func(ctx context.Context, bucketID string)
	// OnDeleteStreamFunc implements OnDeleteStream.
	OnDeleteStreamFunc func(ctx context.Context, bucketID, streamID string)
}

var _ PipelineHook = HookFuncs{}

// SelectCommit calls h.SelectCommitFunc, or keeps c unchanged.
func (h HookFuncs) SelectCommit(ctx context.Context, c Commit) (Commit, bool, error) {
	if h.SelectCommitFunc == nil {
		return c, true, nil
	}
	return h.SelectCommitFunc(ctx, c)
}

// PreCommit calls h.PreCommitFunc, if set.
func (h HookFuncs) PreCommit(ctx context.Context, a CommitAttempt) error {
	if h.PreCommitFunc == nil {
		return nil
	}
	return h.PreCommitFunc(ctx, a)
}

// PostCommit calls h.PostCommitFunc, if set.
func (h HookFuncs) PostCommit(ctx context.Context, c Commit) {
	if h.PostCommitFunc != nil {
		h.PostCommitFunc(ctx, c)
	}
}

// OnPurge calls h.OnPurgeFunc, if set.
func (h HookFuncs) OnPurge(ctx context.Context, bucketID string) {
	if h.OnPurgeFunc != nil {
		h.OnPurgeFunc(ctx, bucketID)
	}
}

// OnDeleteStream calls h.OnDeleteStreamFunc, if set.
func (h HookFuncs) OnDeleteStream(ctx context.Context, bucketID, streamID string) {
	if h.OnDeleteStreamFunc != nil {
		h.OnDeleteStreamFunc(ctx, bucketID, streamID)
	}
}

// vetoError is returned when a pre-commit hook refuses a commit. It matches
// ErrVetoed and the hook's error.
type vetoError struct{ err error }

// Error says that the commit was vetoed, and why.
func (e *vetoError) Error() string { return fmt.Sprintf("%v: %v", ErrVetoed, e.err) }

// Unwrap returns ErrVetoed and the hook's error.
func (e *vetoError) Unwrap() []error { return []error{ErrVetoed, e.err} }

// hooks is the ordered list of a store's hooks.
type hooks []PipelineHook

// selectCommit passes c through every hook's SelectCommit.
func (hs hooks) selectCommit(ctx context.Context, c Commit) (Commit, bool, error) {
	for _, h := range hs {
		var keep bool
		var err error
		c, keep, err = h.SelectCommit(ctx, c)
		if err != nil || !keep {
			return c, false, err
		}
	}
	return c, true, nil
}

// preCommit runs every PreCommit; the first error vetoes.
func (hs hooks) preCommit(ctx context.Context, a CommitAttempt) error {
	for _, h := range hs {
		if err := h.PreCommit(ctx, a); err != nil {
			return &vetoError{err: err}
		}
	}
	return nil
}

func (hs hooks) postCommit(ctx context.Context, c Commit) {
	for _, h := range hs {
		h.PostCommit(ctx, c)
	}
}

func (hs hooks) onPurge(ctx context.Context, bucketID string) {
	for _, h := range hs {
		h.OnPurge(ctx, bucketID)
	}
}

func (hs hooks) onDeleteStream(ctx context.Context, bucketID, streamID string) {
	for _, h := range hs {
		h.OnDeleteStream(ctx, bucketID, streamID)
	}
}
