package eventstore

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/goeventstore/eventstore/persistence"
)

// Position is where a stream ends: the revision of its last event and the
// sequence of the commit that holds it. Append takes the position it
// expects the stream to be at. Take it from what the store returned
// ([Commit.Position], [Stream.Position]) rather than making it up: see
// Append for why.
type Position struct {
	// Revision is the number of events in the stream.
	Revision int
	// Sequence is the number of commits in the stream.
	Sequence int
}

// NoStream is the position of a stream that does not exist: Append at
// NoStream creates the stream, and fails with ErrConcurrency if it exists.
var NoStream = Position{}

// AnyPosition makes Append add its commit after whatever the stream holds
// (creating it if need be), never failing with ErrConcurrency.
var AnyPosition = Position{Revision: -1, Sequence: -1}

// Position returns where the stream ends once this commit is stored: its
// StreamRevision and CommitSequence.
func (a *CommitAttempt) Position() Position {
	return Position{Revision: a.StreamRevision, Sequence: a.CommitSequence}
}

// Position returns where the stream ends as far as it knows: its
// StreamRevision and CommitSequence.
func (st *Stream) Position() Position {
	return Position{Revision: st.revision, Sequence: st.sequence}
}

// validate reports a position that cannot be a stream's.
func (p Position) validate() error {
	if p == AnyPosition {
		return nil
	}
	switch {
	case p.Revision < 0 || p.Sequence < 0:
		return &ValidationError{Field: "expected", Value: p, Reason: "revision and sequence must not be negative (except AnyPosition)"}
	case (p.Revision == 0) != (p.Sequence == 0):
		return &ValidationError{Field: "expected", Value: p, Reason: "revision and sequence must both be 0 (NoStream) or both positive"}
	case p.Sequence > p.Revision:
		return &ValidationError{Field: "expected", Value: p, Reason: "sequence must not exceed revision (a commit holds at least one event)"}
	}
	return nil
}

// anyRetries bounds how many times Append at AnyPosition looks for the end
// of the stream again after another writer got there first.
const anyRetries = 10

// Append stores events as one commit of the default bucket's stream
// streamID, at the expected position. See Bucket.Append.
func (s *Store) Append(ctx context.Context, streamID string, expected Position, commitID UUID, events ...EventMessage) (*Commit, error) {
	return s.def.Append(ctx, streamID, expected, commitID, events...)
}

// Append stores events as one commit identified by commitID at the end of
// stream streamID, if the stream ends at expected, without reading the
// stream: it is CommitChanges for a writer that knows where the stream
// ends (from the commit it last wrote or read, from a read model) and has
// no Stream.
//
//   - expected NoStream: the stream must not exist (its first commit).
//   - expected {Revision: N, Sequence: S}, from Commit.Position or
//     Stream.Position: the stream must end at revision N, commit S. Append
//     stores commit S+1 with revisions N+1 to N+len(events).
//   - expected AnyPosition: after whatever the stream holds. This one reads:
//     it finds the stream's last commit with about 2·log2(revision) reads
//     of one commit each, and if another writer appends meanwhile, looks
//     again (from there) and retries, up to 10 times.
//
// The rules are CommitChanges': ErrConcurrency if the stream does not end
// at expected (another writer got there first), ErrDuplicateCommit, taking
// precedence, if commitID is already stored on the stream; pre-commit hooks
// (ErrVetoed), post-commit hooks and dispatch alike. No events, a nil body
// or a zero commitID are *ValidationError values. Errors are *StreamError
// values; which of them guarantee that nothing was written, and what to do
// after one matching ErrOutcomeUnknown, is as for CommitChanges.
//
// Why the position carries a commit sequence: engines enforce optimistic
// concurrency on the commit sequence (one commit per stream and sequence,
// atomically, in storage), not on the revision, which they do not check.
// Asking for a revision alone would need a read to learn the sequence
// that goes with it, which is what Append avoids: with both, exact and
// NoStream appends cost one engine write whatever the stream's length,
// and a concurrent writer is caught by the storage's own atomic check, as
// for CommitChanges. The price is trust: a position that does not describe
// the stream (made up, taken from another stream, or taken before the
// stream was deleted) is not detected if its sequence is free, and the
// commit is stored with the revisions it claims. A Stream read before a
// DeleteStream has the same blind spot.
func (b *Bucket) Append(ctx context.Context, streamID string, expected Position, commitID UUID, events ...EventMessage) (*Commit, error) {
	s := b.store
	pos := expected
	var pa persistence.CommitAttempt
	fail := func(err error) error {
		return &StreamError{Op: "append", BucketID: b.id, StreamID: streamID,
			Revision: pos.Revision + len(events), CommitSequence: pos.Sequence + 1, CommitID: commitID, Err: err}
	}
	if err := b.check("append", streamID, 0, true); err != nil {
		return nil, err
	}
	if err := expected.validate(); err != nil {
		return nil, fail(err)
	}
	if len(events) == 0 {
		return nil, fail(&ValidationError{Field: "Events", Reason: "must not be empty"})
	}
	if commitID.IsZero() {
		return nil, fail(&ValidationError{Field: "CommitID", Reason: "must not be the zero UUID (use NewCommitID)"})
	}
	for i := range events {
		if events[i].Body == nil {
			return nil, fail(&ValidationError{Field: fmt.Sprintf("Events[%d].Body", i), Reason: "must not be nil"})
		}
	}
	anyPos := expected == AnyPosition
	if anyPos {
		var err error
		if pos, err = b.end(ctx, streamID, NoStream); err != nil {
			return nil, err
		}
	}
	for retry := 0; ; retry++ {
		c, err := s.write(ctx, newCommitBlock(events), CommitAttempt{
			BucketID:       b.id,
			StreamID:       streamID,
			StreamRevision: pos.Revision + len(events),
			CommitID:       commitID,
			CommitSequence: pos.Sequence + 1,
		}, &pa, fail)
		if err == nil {
			return c, nil
		}
		if anyPos && retry < anyRetries && errors.Is(err, ErrConcurrency) && !errors.Is(err, ErrDuplicateCommit) {
			if pos, err = b.end(ctx, streamID, pos); err != nil {
				return nil, err
			}
			continue
		}
		var se *StreamError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, fail(err)
	}
}

// end finds where stream streamID ends, knowing that it reaches from (or
// did: a stream deleted since is searched from the start): it gallops, then
// bisects, on reads of the one commit holding a revision.
func (b *Bucket) end(ctx context.Context, streamID string, from Position) (Position, error) {
	probe := func(r int) (Position, bool, error) {
		for pc, err := range b.store.engine.ReadStream(ctx, b.id, streamID, r, r) {
			if err != nil {
				return Position{}, false, streamErr("append", b.id, streamID, r, err)
			}
			return Position{Revision: pc.StreamRevision, Sequence: pc.CommitSequence}, true, nil
		}
		return Position{}, false, nil
	}
	lo := from
	if lo.Revision > 0 {
		p, ok, err := probe(lo.Revision)
		if err != nil {
			return Position{}, err
		}
		if ok {
			lo = p
		} else {
			lo = NoStream
		}
	}
	// Gallop: lo is a commit's end (or NoStream); find a revision past the end.
	hi := 0
	for step := 1; ; step *= 2 {
		p, ok, err := probe(lo.Revision + step)
		if err != nil {
			return Position{}, err
		}
		if !ok {
			hi = lo.Revision + step
			break
		}
		lo = p
	}
	// Bisect: revision lo.Revision exists (or is 0), hi does not.
	for hi-lo.Revision > 1 {
		mid := lo.Revision + (hi-lo.Revision)/2
		p, ok, err := probe(mid)
		if err != nil {
			return Position{}, err
		}
		if ok {
			lo = p
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// StreamCommits yields the commits of the default bucket's stream streamID
// that hold revisions in [minRevision, maxRevision]. See
// Bucket.StreamCommits.
func (s *Store) StreamCommits(ctx context.Context, streamID string, minRevision, maxRevision int) iter.Seq2[Commit, error] {
	return s.def.StreamCommits(ctx, streamID, minRevision, maxRevision)
}

// StreamCommits yields the commits of stream streamID that hold at least
// one event with a revision in [minRevision, maxRevision] (maxRevision <=
// 0: to the end), whole, in commit sequence order, decoded and through the
// select hooks, with their commit IDs, stamps, sequences and checkpoints.
// A stream that does not exist yields nothing. Each range reads anew; a
// failure is yielded once and ends the sequence.
func (b *Bucket) StreamCommits(ctx context.Context, streamID string, minRevision, maxRevision int) iter.Seq2[Commit, error] {
	const op = "read stream"
	if err := b.validate(op, streamID, minRevision); err != nil {
		return errSeq[Commit](err)
	}
	return b.store.readCommits(ctx, op, b.id, b.store.engine.ReadStream(ctx, b.id, streamID, minRevision, maxRevision))
}
