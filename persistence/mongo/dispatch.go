package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/persistence/driver"
)

var _ driver.DispatchBatcher = (*engine)(nil)

// dispatched is the update that marks a commit dispatched.
var dispatched = bson.D{op("$unset", fUndispatched, "")}

// MarkDispatched removes the undispatched flag of c. A commit marked twice,
// or deleted since, is no error.
func (e *engine) MarkDispatched(ctx context.Context, c driver.Commit) error {
	_, err := e.commits.UpdateOne(ctx, bson.D{kv(fID, c.Checkpoint), kv(fUndispatched, true)}, dispatched, options.UpdateOne().SetHint(idxID))
	return err
}

// MarkDispatchedBatch removes the undispatched flag of the commits of cs
// with one UpdateMany ({_id: {$in: checkpoints}}, through the _id index),
// where MarkDispatched sends one update per commit. As there, a commit
// marked twice, or deleted since, is no error.
func (e *engine) MarkDispatchedBatch(ctx context.Context, cs []driver.Commit) error {
	cps := make(bson.A, len(cs))
	for i := range cs {
		cps[i] = cs[i].Checkpoint
	}
	_, err := e.commits.UpdateMany(ctx, bson.D{op(fID, "$in", cps), kv(fUndispatched, true)}, dispatched, options.UpdateMany().SetHint(idxID))
	return err
}
