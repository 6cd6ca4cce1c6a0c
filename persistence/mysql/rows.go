package mysql

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// entry is a row of the commits table as the checkpoint readers see it: a
// commit, or a tombstone (a checkpoint with nothing in it).
type entry struct {
	persistence.Commit
	tombstone bool
}

// scanCommit reads a row selected with commitColumns.
func scanCommit(rows interface{ Scan(...any) error }) (entry, error) {
	var (
		e                 entry
		bucket, stream    sql.NullString
		rev, items, seq   sql.NullInt64
		stamp             sql.NullInt64
		commitID, payload []byte
	)
	if err := rows.Scan(&e.Checkpoint, &bucket, &stream, &rev, &items, &commitID, &seq, &stamp, &payload); err != nil {
		return e, err
	}
	if !stream.Valid {
		e.tombstone = true
		return e, nil
	}
	e.BucketID, e.StreamID = bucket.String, stream.String
	e.StreamRevision, e.EventCount, e.CommitSequence = int(rev.Int64), int(items.Int64), int(seq.Int64)
	e.CommitStamp = time.UnixMicro(stamp.Int64).UTC()
	e.Payload = payload
	if len(commitID) != len(e.CommitID) {
		return e, fmt.Errorf("commit at checkpoint %d has a %d-byte commit ID", e.Checkpoint, len(commitID))
	}
	copy(e.CommitID[:], commitID)
	return e, nil
}
