package eventstore

import (
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// DefaultBucket names the bucket that Store's own stream methods use.
const DefaultBucket = persistence.DefaultBucket

// UUID is a 128-bit identifier, used for commit IDs. The zero UUID is not a
// valid commit ID.
type UUID = persistence.UUID

// NewCommitID returns a new, time-ordered (version 7) commit ID.
func NewCommitID() UUID { return persistence.NewUUID() }

// ParseUUID parses a UUID in its canonical form
// (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) or as 32 hex digits.
func ParseUUID(s string) (UUID, error) { return persistence.ParseUUID(s) }

// EventMessage is one event: a body, the domain event itself, and optional
// headers (metadata such as a correlation ID or the user who caused it).
type EventMessage struct {
	// Headers holds the event's metadata. It may be nil.
	Headers map[string]any
	// Body is the event. It must not be nil. Register its type with the
	// serializer (see TypeRegistry) to read it back as the same Go type.
	Body any
}

// CommitAttempt is a batch of events about to be appended to a stream at
// once, as pre-commit hooks see it.
type CommitAttempt struct {
	// BucketID names the bucket the stream lives in.
	BucketID string
	// StreamID names the stream within its bucket.
	StreamID string
	// StreamRevision is the revision of the commit's last event: the number
	// of events in the stream once the commit is stored.
	StreamRevision int
	// CommitID identifies the commit; committing the same ID twice on a
	// stream stores it once.
	CommitID UUID
	// CommitSequence is the commit's position in its stream, from 1.
	CommitSequence int
	// CommitStamp is when the commit was made, in UTC, to the microsecond.
	CommitStamp time.Time
	// Headers holds the commit's metadata. It may be nil.
	Headers map[string]any
	// Events are the events of the commit, at least one.
	Events []EventMessage
}

// FirstRevision is the stream revision of the commit's first event.
func (a *CommitAttempt) FirstRevision() int { return a.StreamRevision - len(a.Events) + 1 }

// Commit is a stored commit: the attempt plus its checkpoint, its position
// in the store-wide order that Store.Commits reads in.
type Commit struct {
	CommitAttempt
	// Checkpoint is the commit's position in the store-wide order.
	Checkpoint int64
}

// Snapshot is the state of a stream at one revision, saved so that opening
// the stream does not have to replay every event.
type Snapshot struct {
	// BucketID names the stream's bucket; empty means DefaultBucket, or the
	// bucket whose method is called.
	BucketID string
	// StreamID names the stream.
	StreamID string
	// StreamRevision is the revision of the last event the state includes.
	StreamRevision int
	// Payload is the state. It is serialized with the store's serializer;
	// register its type to read it back as the same Go type.
	Payload any
}

// StreamHead summarizes a stream for snapshot decisions: its head revision
// and the revision of its latest snapshot (0 if none).
type StreamHead = persistence.StreamHead

// Engine is a storage engine as the store holds it (a *Engine), the
// portable layer over an engine package's driver: see package persistence.
// Store.Engine returns the one in use, for maintenance the store does not
// offer (Drop, say).
type Engine = persistence.Engine
