package persistence

import (
	"context"
	"fmt"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// MarkDispatchedBatch records that every commit of cs reached its
// dispatcher: MarkDispatched for many commits, in as few round trips as
// the engine allows. An engine with the driver.DispatchBatcher capability
// marks up to driver.MaxDispatchBatch commits per call (one UPDATE, one
// UpdateMany), each call bounded by Settings.AdminTimeout as other bulk
// operations are; any other engine with dispatch tracking gets one
// MarkDispatched call per distinct commit, each bounded by
// Settings.Timeout. An empty cs does nothing.
//
// As with MarkDispatched, marking a commit twice, or one that has since
// been deleted, is not an error. Every commit must be a stored one (a
// positive checkpoint): otherwise nothing is marked and the error names
// the commit. On a storage error, a prefix of cs or more may have been
// marked; marking again is harmless.
func (e *Engine) MarkDispatchedBatch(ctx context.Context, cs []Commit) error {
	const op = "mark dispatched"
	if e.disp == nil {
		return e.unsupported(op, Dispatch)
	}
	for i := range cs {
		if c := &cs[i]; c.Checkpoint <= 0 {
			return streamError(op, c.BucketID, c.StreamID, 0, &ValidationError{Field: "Checkpoint", Value: c.Checkpoint, Reason: "must be positive: not a stored commit"})
		}
	}
	b, ok := e.disp.(driver.DispatchBatcher)
	if !ok {
		seen := make(map[int64]bool, len(cs))
		for _, c := range cs {
			if seen[c.Checkpoint] {
				continue // marked already: spare the round trip
			}
			seen[c.Checkpoint] = true
			if err := e.MarkDispatched(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}
	for len(cs) > 0 {
		chunk := cs[:min(len(cs), driver.MaxDispatchBatch)]
		cs = cs[len(chunk):]
		// Bounded as the other bulk operations are: a batch is many
		// updates, and some servers pay a good part of a single mark per
		// commit (FerretDB on SQLite: tens of milliseconds).
		_, err := call(e, ctx, op, false, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, b.MarkDispatchedBatch(ctx, chunk)
		})
		if err != nil {
			return opError(fmt.Sprintf("%s (%d commits, from checkpoint %d of bucket %q stream %q)", op, len(chunk), chunk[0].Checkpoint, chunk[0].BucketID, chunk[0].StreamID), err)
		}
	}
	return nil
}
