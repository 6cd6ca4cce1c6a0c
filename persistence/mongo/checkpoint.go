package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// How a writer takes its checkpoint
//
// A commit's _id is its checkpoint. A writer takes the next number from an
// in-process hint, one greater than the greatest _id it knows of, and
// inserts: one round trip per commit. The hint starts from the greatest _id
// in the collection, read by the engine's first commit, which first checks
// that Initialize made the unique indexes (an insert would otherwise create
// the collection without them, and nothing would enforce the rules). When the insert fails with a duplicate _id (another
// process took the number, or a reader filled it with a tombstone), the
// writer raises the hint to the greatest _id stored and tries again with
// the number after it.
//
// A number taken but not yet visible is the trap readers must not fall
// into; see read.go for how readers close every such hole with
// package gapfill.

// checkpoints is the writers' hint.
type checkpoints struct {
	last   atomic.Int64 // greatest checkpoint known taken
	loaded atomic.Bool  // last has been raised to the stored maximum once
	mu     sync.Mutex   // serializes refreshes
}

// next returns a checkpoint to try, loading the hint from storage first if
// it was never loaded.
func (e *engine) nextCheckpoint(ctx context.Context) (int64, error) {
	if !e.cps.loaded.Load() {
		if err := e.loadCheckpoint(ctx); err != nil {
			return 0, err
		}
	}
	return e.cps.last.Add(1), nil
}

// loadCheckpoint raises the hint to the greatest _id stored unless that was
// done already (by a concurrent caller, say).
func (e *engine) loadCheckpoint(ctx context.Context) error {
	e.cps.mu.Lock()
	defer e.cps.mu.Unlock()
	if e.cps.loaded.Load() {
		return nil
	}
	if err := e.checkInitialized(ctx); err != nil {
		return err
	}
	stored, err := e.maxCheckpoint(ctx)
	if err != nil {
		return err
	}
	e.cps.raise(stored)
	e.cps.loaded.Store(true)
	return nil
}

// refreshCheckpoint raises the hint to the greatest _id stored, and at
// least to min.
func (e *engine) refreshCheckpoint(ctx context.Context, min int64) error {
	e.cps.mu.Lock()
	defer e.cps.mu.Unlock()
	stored, err := e.maxCheckpoint(ctx)
	if err != nil {
		return err
	}
	e.cps.raise(max(stored, min))
	e.cps.loaded.Store(true)
	return nil
}

// checkInitialized returns an error wrapping driver.ErrNotInitialized if the
// commits collection lacks the unique indexes Initialize creates.
func (e *engine) checkInitialized(ctx context.Context) error {
	specs, err := e.commits.Indexes().ListSpecifications(ctx)
	if err != nil {
		return err
	}
	for _, s := range specs {
		if s.Name == idxSequence {
			return nil
		}
	}
	return fmt.Errorf("collection %s has no index %s: %w", e.commits.Name(), idxSequence, driver.ErrNotInitialized)
}

// raise sets last to at least v.
func (c *checkpoints) raise(v int64) {
	for {
		cur := c.last.Load()
		if v <= cur || c.last.CompareAndSwap(cur, v) {
			return
		}
	}
}

// reset forgets the hint (after Drop).
func (c *checkpoints) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last.Store(0)
	c.loaded.Store(false)
}

// maxCheckpoint returns the greatest _id in the commits collection, 0 if it
// is empty. Tombstones count: a deleted commit's number is never reused.
func (e *engine) maxCheckpoint(ctx context.Context) (int64, error) {
	var d struct {
		ID int64 `bson:"_id"`
	}
	err := e.commits.FindOne(ctx, bson.D{},
		options.FindOne().SetSort(bson.D{{Key: fID, Value: -1}}).SetProjection(bson.D{{Key: fID, Value: 1}}).SetHint(idxID),
	).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return d.ID, nil
}
