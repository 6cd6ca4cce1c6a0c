package eventstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/goeventstore/eventstore/persistence"
)

// decodedCommit is the in-process form of a commit's payload, handed to
// engines that keep it (persistence.Engine.CommitValue). owner is the
// store that wrote it: only that store's serializer is known to decode the
// payload into equal values.
type decodedCommit struct {
	owner   *Store
	headers map[string]any
	events  []EventMessage
}

// decode turns a stored commit into a Commit: from the engine's in-process
// form when it has one this store wrote, else by deserializing the payload.
// private says the caller will not hand the events slice on to code that
// could change it (no hooks, no caller), so it may be shared.
func (s *Store) decode(pc *persistence.Commit, private bool) (Commit, error) {
	c := Commit{
		CommitAttempt: CommitAttempt{
			BucketID:       pc.BucketID,
			StreamID:       pc.StreamID,
			StreamRevision: pc.StreamRevision,
			CommitID:       pc.CommitID,
			CommitSequence: pc.CommitSequence,
			CommitStamp:    pc.CommitStamp,
		},
		Checkpoint: pc.Checkpoint,
	}
	if d, ok := pc.Value.(*decodedCommit); ok && d.owner == s {
		c.Headers = d.headers
		if private {
			c.Events = d.events
		} else {
			c.Events = slices.Clone(d.events)
		}
		return c, nil
	}
	headers, events, err := s.unmarshalCommit(pc.Payload)
	if err == nil && len(events) != pc.EventCount {
		err = fmt.Errorf("payload holds %d events, the commit says %d", len(events), pc.EventCount)
	}
	if err != nil {
		return Commit{}, &CorruptCommitError{BucketID: pc.BucketID, StreamID: pc.StreamID,
			StreamRevision: pc.StreamRevision, CommitSequence: pc.CommitSequence, CommitID: pc.CommitID,
			Checkpoint: pc.Checkpoint, Err: fmt.Errorf("decoding commit payload: %w", err)}
	}
	c.Headers, c.Events = headers, events
	return c, nil
}

// readCommits decodes the commits of seq and passes them through the
// select hooks.
func (s *Store) readCommits(ctx context.Context, op, bucketID string, seq iter.Seq2[persistence.Commit, error]) iter.Seq2[Commit, error] {
	return func(yield func(Commit, error) bool) {
		if err := s.usable(op, bucketID); err != nil {
			yield(Commit{}, err)
			return
		}
		s.readAhead(ctx, seq, yield)
	}
}

// Decode turns a commit read straight from the engine (from
// Store.Engine().ReadAll, say) into the Commit that Commits yields for it:
// its payload decoded with the store's serializer, then passed through the
// select hooks; keep is false when a hook drops it. A payload that cannot
// be decoded gives a *CorruptCommitError.
//
// Decoding costs more than reading (on a server engine, reading a commit
// costs about what the plain driver does; decoding it, as much again): a
// projection that needs only where a commit stands (its checkpoint,
// stream, ID and stamp) or its payload's bytes reads the engine's commits
// and decodes just those it acts on; one that needs a commit's headers,
// not its events, reads them with DecodeHeaders.
func (s *Store) Decode(ctx context.Context, pc persistence.Commit) (c Commit, keep bool, err error) {
	if err := s.usable("decode", pc.BucketID); err != nil {
		return Commit{}, false, err
	}
	return s.selectCommit(ctx, &pc, false)
}

// DecodeHeaders returns the headers of a commit read straight from the
// engine, without decoding its events: for a projection that acts on a
// commit's headers (a correlation ID, a tenant) and where it stands, not
// on its events. The select hooks do not run. With a serializer that
// implements HeadersUnmarshaler (those of this package do) the events are
// skipped, not decoded, so a corrupt event may go unnoticed; with another,
// the whole payload is decoded. A payload whose headers cannot be decoded
// gives a *CorruptCommitError.
func (s *Store) DecodeHeaders(pc persistence.Commit) (map[string]any, error) {
	if err := s.usable("decode headers", pc.BucketID); err != nil {
		return nil, err
	}
	if d, ok := pc.Value.(*decodedCommit); ok && d.owner == s {
		return d.headers, nil
	}
	headers, err := s.unmarshalHeaders(pc.Payload)
	if err != nil {
		return nil, &CorruptCommitError{BucketID: pc.BucketID, StreamID: pc.StreamID,
			StreamRevision: pc.StreamRevision, CommitSequence: pc.CommitSequence, CommitID: pc.CommitID,
			Checkpoint: pc.Checkpoint, Err: fmt.Errorf("decoding commit headers: %w", err)}
	}
	return headers, nil
}

// selectCommit decodes pc and passes it through the select hooks.
func (s *Store) selectCommit(ctx context.Context, pc *persistence.Commit, private bool) (Commit, bool, error) {
	c, err := s.decode(pc, private && len(s.hooks) == 0)
	if err != nil {
		return Commit{}, false, err
	}
	return s.applySelectHooks(ctx, pc, c)
}

// applySelectHooks passes c, decoded from pc, through the select hooks.
func (s *Store) applySelectHooks(ctx context.Context, pc *persistence.Commit, c Commit) (Commit, bool, error) {
	if len(s.hooks) == 0 {
		return c, true, nil
	}
	c, keep, err := s.hooks.selectCommit(ctx, c)
	if err != nil {
		return Commit{}, false, &StreamError{Op: "select commit hook", BucketID: pc.BucketID, StreamID: pc.StreamID,
			Revision: pc.StreamRevision, CommitSequence: pc.CommitSequence, CommitID: pc.CommitID, Err: err}
	}
	return c, keep, nil
}

// unmarshalSnapshot is the serializer's UnmarshalSnapshot, with a
// panicking serializer reported as an error.
func (s *Store) unmarshalSnapshot(data []byte) (_ any, err error) {
	defer recoverTo(&err, "decoding snapshot payload")
	return s.ser.UnmarshalSnapshot(data)
}

// unmarshalHeaders is the serializer's UnmarshalHeaders, or the headers
// of its UnmarshalCommit, with an empty payload and a panicking serializer
// reported as errors.
func (s *Store) unmarshalHeaders(data []byte) (_ map[string]any, err error) {
	if len(data) == 0 {
		return nil, errors.New("the payload is empty")
	}
	defer recoverTo(&err, "decoding commit headers")
	return headersOf(s.ser, data)
}

// unmarshalCommit is the serializer's UnmarshalCommit, with an empty
// payload and a panicking serializer reported as errors.
func (s *Store) unmarshalCommit(data []byte) (_ map[string]any, _ []EventMessage, err error) {
	if len(data) == 0 {
		return nil, nil, errors.New("the payload is empty")
	}
	defer recoverTo(&err, "decoding commit payload")
	return s.ser.UnmarshalCommit(data)
}
