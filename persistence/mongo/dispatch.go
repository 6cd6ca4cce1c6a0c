package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/persistence/driver"
)

var _ driver.DispatchBatcher = (*engine)(nil)

// MarkDispatchedBatch removes the undispatched flag of the commits of cs
// with one UpdateMany ({_id: {$in: checkpoints}}, through the _id index),
// where MarkDispatched sends one update per commit. As there, a commit
// marked twice, or deleted since, is no error.
func (e *engine) MarkDispatchedBatch(ctx context.Context, cs []driver.Commit) error {
	cps := make(bson.A, len(cs))
	for i := range cs {
		cps[i] = cs[i].Checkpoint
	}
	_, err := e.commits.UpdateMany(ctx,
		bson.D{{Key: fID, Value: bson.D{{Key: "$in", Value: cps}}}, {Key: fUndispatched, Value: true}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: fUndispatched, Value: ""}}}},
		options.UpdateMany().SetHint(idxID))
	return err
}
