package persistence

import (
	"time"
)

// DefaultBucket is the bucket used when none is named.
const DefaultBucket = "default"

// CommitAttempt is a commit as the store hands it to an engine: the position
// it claims in its stream and the serialized events and headers.
type CommitAttempt struct {
	// BucketID names the bucket (a tenant or a partition) the stream lives in.
	BucketID string
	// StreamID names the stream within its bucket.
	StreamID string
	// StreamRevision is the revision of the last event of this commit: the
	// number of events in the stream once the commit is stored.
	StreamRevision int
	// CommitID is the caller-supplied identity that makes a retry detectable.
	CommitID UUID
	// CommitSequence is the position of the commit within its stream,
	// starting at 1.
	CommitSequence int
	// CommitStamp is when the commit was made, in UTC, with microsecond
	// precision. Engines return it exactly as given.
	CommitStamp time.Time
	// EventCount is the number of events in Payload, at least 1. The first
	// event of the commit has revision StreamRevision-EventCount+1.
	EventCount int
	// Payload holds the serialized headers and events. Engines store it
	// opaquely and return it byte for byte.
	Payload []byte
	// Decoded optionally carries the store's in-process form of Payload.
	// Engines that live in the caller's process (memory) may keep it and
	// hand it back on reads so that the store can skip deserialization;
	// engines that persist bytes ignore it and return nil. The store sets it
	// only when deserializing Payload would yield an equal value.
	Decoded any
}

// FirstRevision is the stream revision of the commit's first event.
func (a *CommitAttempt) FirstRevision() int { return a.StreamRevision - a.EventCount + 1 }

// Commit is a stored commit: the attempt plus the checkpoint the engine gave it.
type Commit struct {
	CommitAttempt
	// Checkpoint is the commit's position in the store-wide order.
	Checkpoint int64
}

// Snapshot is the serialized state of a stream at one revision.
type Snapshot struct {
	BucketID       string
	StreamID       string
	StreamRevision int
	// Payload holds the serialized snapshot body, stored opaquely.
	Payload []byte
}

// StreamHead summarizes a stream for snapshot decisions.
type StreamHead struct {
	BucketID string
	StreamID string
	// HeadRevision is the revision of the stream's last event.
	HeadRevision int
	// SnapshotRevision is the revision of its latest snapshot, 0 if none.
	SnapshotRevision int
}

// Limits that every engine accepts and the store enforces.
const (
	// MaxIDLength is the longest bucket or stream ID, in characters.
	MaxIDLength = 1000
	// MaxPayloadSize is the largest serialized commit or snapshot, in bytes,
	// that every engine must store.
	MaxPayloadSize = 4 << 20
)
