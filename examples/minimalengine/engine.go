// Package minimalengine is the smallest complete storage engine: the
// required core of the contract (package driver) and nothing else, kept in
// the process's memory. It is the example of the README's "Writing an
// engine" section and runs the acceptance suite like any other engine; the
// suite runs only the core scenarios, since it claims no capability.
//
// Everything it leaves out (validation, timeouts, closed state, paging,
// error wrapping) the portable layer does for it.
package minimalengine

import (
	"context"
	"sync"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/driver"
)

func init() { persistence.Register("minimal", Open) }

// Open returns a new, empty engine; dataSource may carry the portable URL
// parameters ("minimal://?page_size=100").
func Open(ctx context.Context, dataSource string, opts ...persistence.Option) (*persistence.Engine, error) {
	_, s, err := persistence.ParseSettings(dataSource, opts...)
	if err != nil {
		return nil, err
	}
	return persistence.NewEngineWithSettings("minimal", &engine{}, s), nil
}

type streamKey struct{ bucket, stream string }

// engine keeps commits in checkpoint order (checkpoint = index + 1). One
// lock makes taking a checkpoint and becoming visible one step, so no
// reader can see a later checkpoint before an earlier one: no gap filling.
type engine struct {
	mu      sync.RWMutex
	log     []driver.Commit
	streams map[streamKey][]int // indexes into log, in sequence order
}

func (e *engine) Commit(ctx context.Context, a *driver.CommitAttempt) (driver.Commit, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := streamKey{a.BucketID, a.StreamID}
	for _, i := range e.streams[k] {
		if e.log[i].CommitID == a.CommitID {
			return driver.Commit{}, driver.ErrDuplicateCommit
		}
	}
	if len(e.streams[k])+1 != a.CommitSequence { // taken, or its predecessor is missing
		return driver.Commit{}, driver.ErrConcurrency
	}
	c := driver.Commit{CommitAttempt: *a, Checkpoint: int64(len(e.log) + 1)}
	if e.streams == nil {
		e.streams = map[streamKey][]int{}
	}
	e.streams[k] = append(e.streams[k], len(e.log))
	e.log = append(e.log, c)
	return c, nil
}

func (e *engine) ReadStream(ctx context.Context, q driver.StreamQuery) ([]driver.Commit, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var page []driver.Commit
	for _, i := range e.streams[streamKey{q.BucketID, q.StreamID}] {
		c := e.log[i]
		if c.CommitSequence > q.AfterSequence && c.StreamRevision >= q.MinRevision && c.FirstRevision() <= q.MaxRevision {
			if page = append(page, c); len(page) == q.Limit {
				break
			}
		}
	}
	return page, nil
}

func (e *engine) ReadCommits(ctx context.Context, q driver.CommitQuery) ([]driver.Commit, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var page []driver.Commit
	for _, c := range e.log[min(q.After, int64(len(e.log))):] {
		if q.BucketID == "" || c.BucketID == q.BucketID {
			if page = append(page, c); len(page) == q.Limit {
				break
			}
		}
	}
	return page, nil
}
