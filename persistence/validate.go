package persistence

import (
	"unicode/utf8"
)

// ValidateID checks a bucket or stream ID: not empty, valid UTF-8, at most
// MaxIDLength characters and free of control characters (U+0000 to U+001F
// and U+007F to U+009F), which several storage services refuse in keys.
// field names the argument in the error ("BucketID", "StreamID").
func ValidateID(field, id string) error {
	if id == "" {
		return &ValidationError{Field: field, Reason: "must not be empty"}
	}
	if !utf8.ValidString(id) {
		return &ValidationError{Field: field, Value: id, Reason: "must be valid UTF-8"}
	}
	n := 0
	for _, r := range id {
		n++
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return &ValidationError{Field: field, Value: id, Reason: "must not contain control characters"}
		}
	}
	if n > MaxIDLength {
		return &ValidationError{Field: field, Value: id, Reason: "must be at most 1000 characters"}
	}
	return nil
}

// ValidateAttempt checks everything an engine relies on in a commit attempt.
// Engines call it first in Commit and return its error unchanged.
func ValidateAttempt(a *CommitAttempt) error {
	if a == nil {
		return &ValidationError{Field: "CommitAttempt", Reason: "must not be nil"}
	}
	if err := ValidateID("BucketID", a.BucketID); err != nil {
		return err
	}
	if err := ValidateID("StreamID", a.StreamID); err != nil {
		return err
	}
	switch {
	case a.CommitID.IsZero():
		return &ValidationError{Field: "CommitID", Reason: "must not be the zero UUID"}
	case a.CommitSequence <= 0:
		return &ValidationError{Field: "CommitSequence", Value: a.CommitSequence, Reason: "must be positive"}
	case a.EventCount <= 0:
		return &ValidationError{Field: "EventCount", Value: a.EventCount, Reason: "must be positive: a commit holds at least one event"}
	case a.StreamRevision < a.EventCount:
		return &ValidationError{Field: "StreamRevision", Value: a.StreamRevision, Reason: "must be at least the number of events in the commit"}
	case a.StreamRevision < a.CommitSequence:
		return &ValidationError{Field: "StreamRevision", Value: a.StreamRevision, Reason: "must be at least the commit sequence (each commit holds an event)"}
	case a.CommitStamp.IsZero():
		return &ValidationError{Field: "CommitStamp", Reason: "must be set"}
	case len(a.Payload) == 0:
		return &ValidationError{Field: "Payload", Reason: "must not be empty"}
	case len(a.Payload) > MaxPayloadSize:
		return &ValidationError{Field: "Payload", Value: len(a.Payload), Reason: "exceeds MaxPayloadSize (4 MiB)"}
	}
	return nil
}

// ValidateSnapshot checks a snapshot before it is stored.
func ValidateSnapshot(s *Snapshot) error {
	if err := ValidateID("BucketID", s.BucketID); err != nil {
		return err
	}
	if err := ValidateID("StreamID", s.StreamID); err != nil {
		return err
	}
	switch {
	case s.StreamRevision <= 0:
		return &ValidationError{Field: "StreamRevision", Value: s.StreamRevision, Reason: "must be positive"}
	case len(s.Payload) == 0:
		return &ValidationError{Field: "Payload", Reason: "must not be empty"}
	case len(s.Payload) > MaxPayloadSize:
		return &ValidationError{Field: "Payload", Value: len(s.Payload), Reason: "exceeds MaxPayloadSize (4 MiB)"}
	}
	return nil
}

// ValidateRange checks the revision bounds of a stream read: 0 <= min, and
// max >= min unless max is 0 or less, which means "to the end".
func ValidateRange(minRevision, maxRevision int) error {
	if minRevision < 0 {
		return &ValidationError{Field: "minRevision", Value: minRevision, Reason: "must not be negative"}
	}
	if maxRevision > 0 && maxRevision < minRevision {
		return &ValidationError{Field: "maxRevision", Value: maxRevision, Reason: "must not be below minRevision"}
	}
	return nil
}
