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
	fUndispatched = "undispatched"
	fTombstone    = "tombstone"
)

// kv is the element k: v of a filter, sort, projection or update; op is
// the filter element k: {operator: v}, as in op(fID, "$gt", after).
func kv(k string, v any) bson.E           { return bson.E{Key: k, Value: v} }
func op(k, operator string, v any) bson.E { return kv(k, bson.D{kv(operator, v)}) }

// byID sorts in checkpoint order, and projects a document to its _id.
var byID = bson.D{kv(fID, 1)}

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
	sum := sha256.Sum256([]byte(bucketID + "\x00" + streamID))
	return hex.EncodeToString(sum[:16])
}

// newCommitDoc returns the document for attempt, without its checkpoint.
func newCommitDoc(a *driver.CommitAttempt, undispatched bool) commitDoc {
	return commitDoc{
		Key: streamKey(a.BucketID, a.StreamID), Bucket: a.BucketID, Stream: a.StreamID,
		Seq: int64(a.CommitSequence), Rev: int64(a.StreamRevision), Events: int64(a.EventCount),
		CommitID: bson.Binary{Subtype: bson.TypeBinaryUUID, Data: a.CommitID[:]}, Stamp: a.CommitStamp.UnixMicro(),
		Payload: a.Payload, Undispatched: undispatched,
	}
}

// first returns the stream revision of the commit's first event.
func (d *commitDoc) first() int64 { return d.Rev - d.Events + 1 }

// tombstone returns the tombstone document for cp, with its unique key.
func tombstone(cp int64) commitDoc {
	return commitDoc{ID: cp, Key: "tombstone:" + strconv.FormatInt(cp, 10), Tombstone: true}
}

// commit converts a stored commit document.
func (d *commitDoc) commit() driver.Commit {
	var id driver.UUID
	copy(id[:], d.CommitID.Data)
	return driver.Commit{Checkpoint: d.ID, CommitAttempt: driver.CommitAttempt{
		BucketID: d.Bucket, StreamID: d.Stream,
		CommitSequence: int(d.Seq), StreamRevision: int(d.Rev), EventCount: int(d.Events),
		CommitID: id, CommitStamp: time.UnixMicro(d.Stamp).UTC(), Payload: d.Payload,
	}}
}
