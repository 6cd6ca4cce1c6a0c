package persistence

import (
	"github.com/goeventstore/eventstore/persistence/driver"
)

// DefaultBucket is the bucket used when none is named.
const DefaultBucket = "default"

// The data types are the driver's: see package driver for their fields.
type (
	// CommitAttempt is a commit before it is stored.
	CommitAttempt = driver.CommitAttempt
	// Commit is a stored commit, with its checkpoint.
	Commit = driver.Commit
	// Snapshot is the serialized state of a stream at one revision.
	Snapshot = driver.Snapshot
	// StreamHead summarizes a stream for snapshot decisions.
	StreamHead = driver.StreamHead
	// UUID is a 128-bit identifier, used for commit IDs.
	UUID = driver.UUID
)

// NewUUID returns a new version 7 UUID (time-ordered, random in its
// remaining 74 bits).
func NewUUID() UUID { return driver.NewUUID() }

// ParseUUID parses the canonical form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, or
// 32 hex digits without dashes.
func ParseUUID(s string) (UUID, error) { return driver.ParseUUID(s) }

// MustParseUUID is ParseUUID that panics on error, for constants in tests.
func MustParseUUID(s string) UUID { return driver.MustParseUUID(s) }

// Limits that every engine accepts and the portable layer enforces.
const (
	// MaxIDLength is the longest bucket or stream ID, in characters.
	MaxIDLength = driver.MaxIDLength
	// MaxPayloadSize is the largest serialized commit or snapshot, in bytes.
	MaxPayloadSize = driver.MaxPayloadSize
)
