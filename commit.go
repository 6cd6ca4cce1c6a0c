package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// CommitChanges stores the uncommitted events and headers as one commit
// identified by commitID, and returns it. With nothing to commit it does
// nothing and returns nil, nil.
//
// The rules, as in NEventStore:
//
//   - If another writer extended the stream since it was read, the error
//     wraps ErrConcurrency, and the stream has refreshed itself with what
//     was committed: CommittedEvents, StreamRevision and CommitSequence are
//     up to date and the uncommitted events are kept. Look again and retry
//     (with a new commit ID), or ClearChanges and give up.
//   - If commitID is already stored on the stream, the error wraps
//     ErrDuplicateCommit: the work was done before and nothing changed.
//     This takes precedence over a conflict. The stream is not refreshed
//     and keeps its uncommitted events (ClearChanges drops them).
//   - If a pre-commit hook vetoes it, the error wraps ErrVetoed.
//   - A zero commitID, a nil body, or a body the serializer cannot encode
//     is a *ValidationError.
//   - A stream opened up to a revision inside a commit first refreshes
//     itself and fails with ErrConcurrency (NEventStore issue 420).
//
// Was it stored? ErrConcurrency, ErrDuplicateCommit, ErrVetoed,
// ErrInvalid, ErrClosed, ErrPermissionDenied, ErrNotInitialized,
// ErrMisconfigured and ErrUnsupported guarantee that nothing was written,
// as does a context that was already done when CommitChanges was called.
// Every other error (ErrStorageUnavailable, ErrStorage, a deadline or
// cancellation during the write) also matches ErrOutcomeUnknown: the
// commit may have been stored, wholly, and the answer lost. Resolve it by
// retrying with the same commit ID: success or ErrDuplicateCommit both
// mean the commit is stored, once (after ErrDuplicateCommit, open the
// stream again to see it). Errors are *StreamError values naming the
// bucket, stream and revision. Once stored, the commit goes through the
// post-commit hooks and to the dispatcher; a dispatch failure never makes
// CommitChanges fail (the commit stays undispatched and is retried).
//
// The returned commit is the one handed to the dispatcher, which may still
// be reading it: treat it, its headers and its events as read-only.
func (st *Stream) CommitChanges(ctx context.Context, commitID UUID) (*Commit, error) {
	s := st.store
	revision, sequence := st.revision+len(st.uncommitted), st.sequence+1 // as attempted
	fail := func(err error) error {
		return &StreamError{Op: "commit", BucketID: st.bucketID, StreamID: st.streamID,
			Revision: revision, CommitSequence: sequence, CommitID: commitID, Err: err}
	}
	if s.closed.Load() {
		return nil, fail(ErrClosed)
	}
	if st.partial {
		err := fmt.Errorf("%w: the stream was opened up to a revision inside a commit and has been refreshed", ErrConcurrency)
		if rerr := st.refresh(ctx); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, fail(err)
	}
	if len(st.uncommitted) == 0 {
		return nil, nil
	}
	if commitID.IsZero() {
		return nil, fail(&ValidationError{Field: "CommitID", Reason: "must not be the zero UUID (use NewCommitID)"})
	}
	for i := range st.uncommitted {
		if isNil(st.uncommitted[i].Body) {
			return nil, fail(&ValidationError{Field: fmt.Sprintf("Events[%d].Body", i), Value: fmt.Sprintf("%T", st.uncommitted[i].Body), Reason: "must not be nil"})
		}
	}
	c, err := s.write(ctx, newCommitBlock(st.uncommitted), CommitAttempt{
		BucketID:       st.bucketID,
		StreamID:       st.streamID,
		StreamRevision: revision,
		CommitID:       commitID,
		CommitSequence: sequence,
		Headers:        st.uncommittedHeaders,
	}, &st.attempt, fail)
	if err != nil {
		if errors.Is(err, ErrConcurrency) && !errors.Is(err, ErrDuplicateCommit) {
			if rerr := st.refresh(ctx); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		var se *StreamError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, fail(err)
	}
	st.committed = append(st.committed, c.Events...)
	st.mergeHeaders(c.Headers)
	st.revision = c.StreamRevision
	st.sequence = c.CommitSequence
	clear(st.uncommitted) // the stream keeps the array for the next events
	st.uncommitted = st.uncommitted[:0]
	st.uncommittedHeaders = nil
	return c, nil
}

// newCommitBlock allocates a commit holding a copy of events, in one piece
// when there is one event.
func newCommitBlock(events []EventMessage) *commitBlock {
	blk := &commitBlock{}
	if len(events) == 1 {
		blk.one[0] = events[0]
		blk.c.Events = blk.one[:]
	} else {
		blk.c.Events = slices.Clone(events)
	}
	return blk
}

// write stores the commit of blk (its events set by newCommitBlock, the
// rest of the attempt in a, the stamp set here) through the pre-commit
// hooks, the serializer and the engine, then runs the post-commit hooks and
// hands it to the dispatcher. pa is the engine's scratch attempt (engines
// copy what they keep). Errors before the engine is called go through
// fail; the engine's are returned as they are.
func (s *Store) write(ctx context.Context, blk *commitBlock, a CommitAttempt, pa *persistence.CommitAttempt, fail func(error) error) (*Commit, error) {
	c := &blk.c
	a.Events = c.Events
	a.CommitStamp = time.Now().UTC().Truncate(time.Microsecond)
	c.CommitAttempt = a
	if len(s.hooks) > 0 {
		if err := s.hooks.preCommit(ctx, c.CommitAttempt); err != nil {
			return nil, fail(err)
		}
	}
	var payload []byte
	var lossless bool
	var err error
	if s.cm != nil {
		payload, lossless, err = s.cm.marshalCommit(a.Headers, a.Events)
	} else {
		payload, err = s.ser.MarshalCommit(a.Headers, a.Events)
	}
	if err != nil {
		if _, ok := errors.AsType[*ValidationError](err); ok {
			return nil, fail(err)
		}
		return nil, fail(&ValidationError{Field: "Events", Reason: "cannot be serialized: " + err.Error()})
	}
	*pa = persistence.CommitAttempt{
		BucketID:       a.BucketID,
		StreamID:       a.StreamID,
		StreamRevision: a.StreamRevision,
		CommitID:       a.CommitID,
		CommitSequence: a.CommitSequence,
		CommitStamp:    a.CommitStamp,
		EventCount:     len(a.Events),
		Payload:        payload,
	}
	var tk ticket // with dispatch: the attempt's place in its stream's dispatch order
	if s.order != nil {
		tk = s.order.begin(ctx, streamKey{a.BucketID, a.StreamID}, a.CommitSequence)
		defer tk.end() // also on a panic, so that later commits are not held back
	}
	var pc persistence.Commit
	if lossless {
		blk.dec = decodedCommit{owner: s, headers: a.Headers, events: a.Events}
		pc, err = s.engine.CommitValue(ctx, pa, &blk.dec)
	} else {
		pc, err = s.engine.Commit(ctx, pa)
	}
	*pa = persistence.CommitAttempt{}
	if err != nil {
		return nil, err
	}
	c.Checkpoint = pc.Checkpoint
	if s.order != nil {
		s.inflight.add(c.Checkpoint)
		tk.stored = c // the deferred end schedules it, after the post-commit hooks
	}
	if len(s.hooks) > 0 {
		s.hooks.postCommit(ctx, *c)
	}
	if s.order == nil {
		s.schedule(ctx, c)
	}
	return c, nil
}

// commitBlock is what CommitChanges allocates for a commit, in one piece.
type commitBlock struct {
	c   Commit
	dec decodedCommit
	one [1]EventMessage
}
