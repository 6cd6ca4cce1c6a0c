package s3

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// record is a commit as it is stored: in a log slot (an intent, with no
// checkpoint) and in a claim (with the checkpoint of its intent).
type record struct {
	Bucket string      `json:"b"`
	Stream string      `json:"s"`
	Rev    int         `json:"r"`
	Seq    int         `json:"q"`
	ID     driver.UUID `json:"id"`
	Stamp  int64       `json:"t"` // Unix microseconds
	Events int         `json:"e"`
	Data   []byte      `json:"p"`
	CP     int64       `json:"cp,omitempty"` // claims only
	// Dead marks a claim whose commit was deleted (DeleteStream, Purge);
	// Horizon is then 0 while the deletion is in progress, or a checkpoint
	// such that every intent at or below it that this claim ever refused
	// stays refused (see decide.go).
	Dead    bool  `json:"x,omitempty"`
	Horizon int64 `json:"h,omitempty"`
}

func newRecord(a *driver.CommitAttempt) record {
	return record{
		Bucket: a.BucketID, Stream: a.StreamID, Rev: a.StreamRevision, Seq: a.CommitSequence,
		ID: a.CommitID, Stamp: a.CommitStamp.UnixMicro(), Events: a.EventCount, Data: a.Payload,
	}
}

// commit returns r as a driver commit with checkpoint cp.
func (r *record) commit(cp int64) driver.Commit {
	return driver.Commit{CommitAttempt: driver.CommitAttempt{
		BucketID: r.Bucket, StreamID: r.Stream, StreamRevision: r.Rev, CommitID: r.ID,
		CommitSequence: r.Seq, CommitStamp: time.UnixMicro(r.Stamp).UTC(), EventCount: r.Events,
		Payload: r.Data,
	}, Checkpoint: cp}
}

// slot is the body of a log slot: a batch of intents written by one
// conditional create, and the nonce that lets its writer recognise it; or
// a void slot, with no intents, that a reader stored in a hole (holes.go).
type slot struct {
	Nonce   string   `json:"nonce,omitempty"`
	Void    bool     `json:"void,omitempty"`
	Intents []record `json:"intents"`
}

// marker is the body of a commit-ID marker.
type marker struct {
	Seq int   `json:"q"`
	CP  int64 `json:"cp"`
}

func decode(what, key string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("s3: corrupt %s object %s: %w", what, key, err)
	}
	return nil
}
