package mongo

import (
	"context"
	"iter"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/goeventstore/eventstore/persistence"
)

// cursorCloseTimeout bounds killing a server cursor when a read ends early.
const cursorCloseTimeout = 5 * time.Second

// closeCursor kills a server cursor, even when the read's context is done.
func closeCursor(cur *mongo.Cursor) {
	ctx, cancel := context.WithTimeout(context.Background(), cursorCloseTimeout)
	defer cancel()
	_ = cur.Close(ctx)
}

// readCommits yields the commits a query finds, a page (a cursor batch) per
// round trip, skipping tombstones, until past (if not nil) reports a commit
// past the end of the range. It holds the gate for the whole range.
func (e *Engine) readCommits(ctx context.Context, op string, query func() (*mongo.Cursor, error), past func(*commitDoc) bool) iter.Seq2[persistence.Commit, error] {
	return func(yield func(persistence.Commit, error) bool) {
		if err := e.gate.enter(); err != nil {
			yield(persistence.Commit{}, err)
			return
		}
		defer e.gate.leave()
		cur, err := query()
		if err != nil {
			yield(persistence.Commit{}, storageError(ctx, op, err))
			return
		}
		defer closeCursor(cur)
		for cur.Next(ctx) {
			var d commitDoc
			if err := cur.Decode(&d); err != nil {
				yield(persistence.Commit{}, storageError(ctx, op, err))
				return
			}
			if d.Tombstone {
				continue
			}
			if past != nil && past(&d) {
				return
			}
			if !yield(d.commit(), nil) {
				return
			}
		}
		if err := cur.Err(); err != nil {
			yield(persistence.Commit{}, storageError(ctx, op, err))
		}
	}
}
