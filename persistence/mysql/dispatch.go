package mysql

import (
	"context"
	"strings"

	"github.com/goeventstore/eventstore/persistence/driver"
)

var _ driver.DispatchBatcher = (*engine)(nil)

// markBatchSizes are the list lengths of the prepared batch-mark
// statements: a batch is padded to the first that holds it (repeating its
// last commit, which marks nothing more), so that three statements serve
// every batch. The last is driver.MaxDispatchBatch.
var markBatchSizes = [...]int{16, 128, driver.MaxDispatchBatch}

// MarkDispatchedBatch clears the undispatched flag of the commits of cs in
// one UPDATE per driver.MaxDispatchBatch commits: a range of primary-key
// lookups (checkpoint IN (...)), each row cleared only if it still is the
// same commit (its commit ID matches the one given for its checkpoint).
func (e *engine) MarkDispatchedBatch(ctx context.Context, cs []driver.Commit) error {
	for len(cs) > 0 {
		n := markBatchSizes[len(markBatchSizes)-1]
		for _, s := range markBatchSizes {
			if len(cs) <= s {
				n = s
				break
			}
		}
		chunk := cs[:min(len(cs), n)]
		cs = cs[len(chunk):]
		args := make([]any, 0, 3*n)
		for i := range n {
			args = append(args, chunk[min(i, len(chunk)-1)].Checkpoint)
		}
		for i := range n {
			c := &chunk[min(i, len(chunk)-1)]
			args = append(args, c.Checkpoint, c.CommitID[:])
		}
		if _, err := e.exec(ctx, e.markBatchQuery(n), args...); err != nil {
			return err
		}
	}
	return nil
}

// markBatchQuery returns the template of the batch-mark UPDATE for n
// commits: n checkpoints, then n (checkpoint, commit ID) pairs.
func (e *engine) markBatchQuery(n int) string {
	return "UPDATE `{p}commits` SET undispatched = NULL WHERE checkpoint IN (?" + strings.Repeat(", ?", n-1) +
		") AND undispatched = 1 AND commit_id = CASE checkpoint" + strings.Repeat(" WHEN ? THEN ?", n) + " END"
}
