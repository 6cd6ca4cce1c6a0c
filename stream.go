package eventstore

import (
	"context"
	"maps"
	"slices"

	"github.com/goeventstore/eventstore/persistence"
)

// Stream is a stream of events as one writer sees it: the events committed
// so far (or those in the revision range it was opened with), and the
// uncommitted events waiting for CommitChanges. Get one from
// Store.CreateStream or Store.OpenStream. A Stream is not safe for
// concurrent use: give each goroutine its own, and let optimistic
// concurrency sort out who wins.
type Stream struct {
	store              *Store
	bucketID, streamID string
	revision           int // revision of the last committed event seen
	sequence           int // commit sequence of the last commit seen
	committed          []EventMessage
	committedHeaders   map[string]any
	uncommitted        []EventMessage
	uncommittedHeaders map[string]any
	partial            bool                      // loaded up to a revision inside a commit (NEventStore #420)
	attempt            persistence.CommitAttempt // CommitChanges' scratch for the engine
}

// BucketID returns the name of the stream's bucket.
func (st *Stream) BucketID() string { return st.bucketID }

// StreamID returns the stream's ID.
func (st *Stream) StreamID() string { return st.streamID }

// StreamRevision returns the revision of the last committed event the
// stream has seen: the number of events in the stream, as far as it knows.
func (st *Stream) StreamRevision() int { return st.revision }

// CommitSequence returns the sequence number of the last commit the stream
// has seen (0 for a new stream).
func (st *Stream) CommitSequence() int { return st.sequence }

// CommittedEvents returns the committed events loaded or written through
// this stream, oldest first. The slice is the stream's own: do not modify
// it.
func (st *Stream) CommittedEvents() []EventMessage { return slices.Clip(st.committed) }

// CommittedHeaders returns the headers of the commits loaded or written
// through this stream, merged (a later commit's value wins). Do not modify
// the map.
func (st *Stream) CommittedHeaders() map[string]any { return st.committedHeaders }

// UncommittedEvents returns a copy of the events added since the last
// commit.
func (st *Stream) UncommittedEvents() []EventMessage { return slices.Clone(st.uncommitted) }

// UncommittedHeaders returns the headers the next commit will carry. Do not
// modify the map; use SetHeader.
func (st *Stream) UncommittedHeaders() map[string]any { return st.uncommittedHeaders }

// Add appends events to the uncommitted events. An event with a nil Body
// is a *ValidationError and nothing is added.
func (st *Stream) Add(events ...EventMessage) error {
	for i := range events {
		if isNil(events[i].Body) {
			return &StreamError{Op: "add event", BucketID: st.bucketID, StreamID: st.streamID,
				Revision: st.revision + len(st.uncommitted) + i + 1,
				Err:      &ValidationError{Field: "EventMessage.Body", Reason: "must not be nil"}}
		}
	}
	st.uncommitted = append(st.uncommitted, events...)
	return nil
}

// SetHeader sets a header of the next commit.
func (st *Stream) SetHeader(key string, value any) {
	if st.uncommittedHeaders == nil {
		st.uncommittedHeaders = make(map[string]any)
	}
	st.uncommittedHeaders[key] = value
}

// ClearChanges discards the uncommitted events and headers.
func (st *Stream) ClearChanges() {
	st.uncommitted = nil
	st.uncommittedHeaders = nil
}

// load reads the stream's events in [minRevision, maxRevision].
func (st *Stream) load(ctx context.Context, minRevision, maxRevision int) error {
	return st.loadFrom(ctx, minRevision, minRevision, maxRevision)
}

// loadFrom reads the commits holding revisions from readFrom to
// maxRevision, and keeps their events from keepFrom on.
func (st *Stream) loadFrom(ctx context.Context, readFrom, keepFrom, maxRevision int) error {
	s := st.store
	for pc, err := range s.engine.ReadStream(ctx, st.bucketID, st.streamID, readFrom, maxRevision) {
		if err != nil {
			return streamErr("read stream", st.bucketID, st.streamID, readFrom, err)
		}
		c, keep, err := s.selectCommit(ctx, &pc, true)
		if err != nil {
			return err
		}
		if keep {
			st.populate(&c, keepFrom, maxRevision)
		}
	}
	return nil
}

// populate adds the events of c with revisions in [minRevision,
// maxRevision] (maxRevision <= 0: no bound), as NEventStore does.
func (st *Stream) populate(c *Commit, minRevision, maxRevision int) {
	rev := c.StreamRevision - len(c.Events)
	first := len(c.Events)
	last := len(c.Events)
	for i := range c.Events {
		rev++
		if maxRevision > 0 && rev > maxRevision {
			st.partial = true
			last = i
			break
		}
		if rev < minRevision {
			continue
		}
		if first == len(c.Events) {
			first = i
		}
		st.revision = rev
	}
	if first < last {
		st.committed = append(st.committed, c.Events[first:last]...)
	}
	st.sequence = c.CommitSequence
	st.mergeHeaders(c.Headers)
}

func (st *Stream) mergeHeaders(h map[string]any) {
	if len(h) == 0 {
		return
	}
	if st.committedHeaders == nil {
		st.committedHeaders = make(map[string]any, len(h))
	}
	maps.Copy(st.committedHeaders, h)
}

// refresh reads what was committed after the stream's revision.
func (st *Stream) refresh(ctx context.Context) error {
	st.partial = false
	return st.loadFrom(ctx, st.revision+1, st.revision+1, 0)
}
