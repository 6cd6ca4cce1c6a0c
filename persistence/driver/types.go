package driver

import "time"

// CommitAttempt is a commit as the portable layer hands it to an engine: the
// position it claims in its stream and its serialized events and headers.
type CommitAttempt struct {
	// BucketID names the bucket (a tenant, a partition) of the stream.
	BucketID string
	// StreamID names the stream within its bucket.
	StreamID string
	// StreamRevision is the revision of the commit's last event: the number
	// of events in the stream once it is stored.
	StreamRevision int
	// CommitID is the caller-supplied identity that makes a retry detectable.
	CommitID UUID
	// CommitSequence is the commit's position within its stream, from 1.
	CommitSequence int
	// CommitStamp is when the commit was made, in UTC, at microsecond
	// precision. Engines return it exactly as given.
	CommitStamp time.Time
	// EventCount is the number of events in Payload, at least 1. The
	// commit's first event has revision StreamRevision-EventCount+1.
	EventCount int
	// Payload holds the serialized headers and events, at most
	// MaxPayloadSize bytes. Engines store it opaquely and return it byte for
	// byte.
	Payload []byte
}

// FirstRevision is the stream revision of the commit's first event.
func (a *CommitAttempt) FirstRevision() int { return a.StreamRevision - a.EventCount + 1 }

// Commit is a stored commit: the attempt plus the checkpoint the engine gave
// it.
type Commit struct {
	CommitAttempt
	// Checkpoint is the commit's position in the store-wide order.
	Checkpoint int64
	// Value is the in-process form of Payload kept by a ValueCommitter, or
	// nil. Engines that store bytes leave it nil.
	Value any
}

// Snapshot is the serialized state of a stream at one revision.
type Snapshot struct {
	BucketID       string
	StreamID       string
	StreamRevision int
	// Payload holds the serialized snapshot, stored opaquely.
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

// Limits every engine accepts and the portable layer enforces.
const (
	// MaxIDLength is the longest bucket or stream ID, in characters (any
	// Unicode but control characters).
	MaxIDLength = 1000
	// MaxPayloadSize is the largest serialized commit or snapshot, in bytes.
	MaxPayloadSize = 4 << 20
)
