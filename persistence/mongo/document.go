package mongo

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Field names of the commit documents. The document shape is:
//
//	{
//	  _id:          int64   checkpoint (the global order)
//	  key:          string  stream key: 32 hex digits of SHA-256(bucket, stream)
//	  bucket:       string  bucket ID, as given
//	  stream:       string  stream ID, as given (up to 1000 characters)
//	  seq:          int64   commit sequence
//	  rev:          int64   stream revision of its last event
//	  events:       int64   number of events
//	  commitId:     binary  commit ID (UUID, subtype 4)
//	  stamp:        int64   commit stamp, microseconds since the Unix epoch (UTC)
//	  payload:      binary  the serialized headers and events
//	  undispatched: true    present until the commit is marked dispatched
//	}
//
// A tombstone fills a checkpoint that holds no commit:
//
//	{ _id: int64, key: "tombstone:<checkpoint>", tombstone: true }
//
// Its key is unique and never a hex digest, so tombstones never collide with
// each other or with commits in the unique indexes, which therefore need no
// partial filter (FerretDB has none).
const (
	fID           = "_id"
	fKey          = "key"
	fBucket       = "bucket"
	fStream       = "stream"
	fSeq          = "seq"
	fRev          = "rev"
	fEvents       = "events"
	fCommitID     = "commitId"
	fStamp        = "stamp"
	fPayload      = "payload"
	fUndispatched = "undispatched"
	fTombstone    = "tombstone"
)

// floorKey is the key of the one tombstone that records the checkpoint below
// which Purge removed everything (see delete.go).
const floorKey = "floor"

// commitDoc is a commit document or a tombstone as stored.
type commitDoc struct {
	ID           int64       `bson:"_id"`
	Key          string      `bson:"key"`
	Tombstone    bool        `bson:"tombstone,omitempty"`
	Bucket       string      `bson:"bucket,omitempty"`
	Stream       string      `bson:"stream,omitempty"`
	Seq          int64       `bson:"seq,omitempty"`
	Rev          int64       `bson:"rev,omitempty"`
	Events       int64       `bson:"events,omitempty"`
	CommitID     bson.Binary `bson:"commitId,omitempty"`
	Stamp        int64       `bson:"stamp,omitempty"`
	Payload      []byte      `bson:"payload,omitempty"`
	Undispatched bool        `bson:"undispatched,omitempty"`
}

// streamKey returns the key of a stream: a fixed-size digest, so that index
// entries stay small whatever the length of the IDs. IDs never contain
// control characters (persistence.ValidateID), so NUL separates them
// unambiguously.
func streamKey(bucketID, streamID string) string {
	h := sha256.New()
	h.Write([]byte(bucketID))
	h.Write([]byte{0})
	h.Write([]byte(streamID))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// tombstoneKey returns the unique key of the tombstone at cp.
func tombstoneKey(cp int64) string { return "tombstone:" + strconv.FormatInt(cp, 10) }

func uuidBinary(u driver.UUID) bson.Binary {
	return bson.Binary{Subtype: bson.TypeBinaryUUID, Data: u[:]}
}

// newCommitDoc returns the document for attempt, without its checkpoint.
func newCommitDoc(a *driver.CommitAttempt) commitDoc {
	return commitDoc{
		Key:          streamKey(a.BucketID, a.StreamID),
		Bucket:       a.BucketID,
		Stream:       a.StreamID,
		Seq:          int64(a.CommitSequence),
		Rev:          int64(a.StreamRevision),
		Events:       int64(a.EventCount),
		CommitID:     uuidBinary(a.CommitID),
		Stamp:        a.CommitStamp.UnixMicro(),
		Payload:      a.Payload,
		Undispatched: true,
	}
}

// first returns the stream revision of the commit's first event.
func (d *commitDoc) first() int64 { return d.Rev - d.Events + 1 }

// tombstone returns the tombstone document for cp.
func tombstone(cp int64) commitDoc {
	return commitDoc{ID: cp, Key: tombstoneKey(cp), Tombstone: true}
}

// commit converts a stored commit document.
func (d *commitDoc) commit() driver.Commit {
	var id driver.UUID
	copy(id[:], d.CommitID.Data)
	return driver.Commit{
		CommitAttempt: driver.CommitAttempt{
			BucketID:       d.Bucket,
			StreamID:       d.Stream,
			StreamRevision: int(d.Rev),
			CommitID:       id,
			CommitSequence: int(d.Seq),
			CommitStamp:    time.UnixMicro(d.Stamp).UTC(),
			EventCount:     int(d.Events),
			Payload:        d.Payload,
		},
		Checkpoint: d.ID,
	}
}
