package memory

import (
	"context"
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/driver"
	"github.com/goeventstore/eventstore/persistence/internal/engines"
)

// name is the engine's name and URL scheme.
const name = "memory"

// engine is the in-memory driver (see package driver). The portable layer
// (persistence.Engine) validates its input, pages its reads and refuses
// calls after Close, so it does none of that.
//
// Locks are taken in this order: a shard's (one, or all in index order),
// then mu, then a log chunk's. See the package documentation.
type engine struct {
	seed maphash.Seed
	log  atomic.Pointer[commitLog] // st.log, for MarkDispatched
	_    [64]byte                  // keeps the above, read-mostly, off mu's line

	shards [nShards]shard

	mu sync.RWMutex // guards st
	st state
}

// The capabilities the engine has: all of them (driver.ValueCommitter
// unless WithKeepValues(false)). It has no native client
// (no driver.Aser) and no driver errors to classify (no
// driver.ErrorClassifier): it fails only with the outcomes of the rules.
var (
	_ engines.Storing       = (*engine)(nil)
	_ driver.ValueCommitter = valueEngine{}
	_ driver.Immediate      = (*engine)(nil)
)

// New returns a new, empty engine, ready for use (Initialize is accepted
// and does nothing). opts are the portable options (persistence.WithPageSize
// and the timeouts) and WithKeepValues. A page size or timeout below 1
// selects the default, so New never fails.
func New(opts ...persistence.Option) *persistence.Engine {
	opts = append(opts[:len(opts):len(opts)], defaultInvalid)
	s, err := persistence.NewSettings(opts...)
	if err != nil { // not reached: defaultInvalid leaves nothing to refuse
		s, _ = persistence.NewSettings()
	}
	d, err := newDriver(s)
	if err != nil { // an invalid keep_values set with WithEngineOption
		d = valueEngine{newEngine()}
	}
	return persistence.NewEngineWithSettings(name, d, s)
}

// keepValues is the name of the option WithKeepValues sets, and of its URL
// parameter.
const keepValues = "keep_values"

// WithKeepValues says whether the engine keeps the caller's in-process form
// of each commit beside its payload (persistence.Engine.CommitValue), so
// that reads skip decoding. It does by default. With false it keeps only
// payloads, as the engines that store bytes do, and every read decodes:
// run your tests so to check that your events survive serialization before
// you move to a persisting engine. URL parameter: keep_values=false.
func WithKeepValues(keep bool) persistence.Option {
	return persistence.WithEngineOption(keepValues, strconv.FormatBool(keep))
}

// newDriver returns a new, empty driver configured by s.
func newDriver(s *persistence.Settings) (driver.Engine, error) {
	keep, err := s.Bool(keepValues, true)
	if err != nil {
		return nil, err
	}
	if keep {
		return valueEngine{newEngine()}, nil
	}
	return newEngine(), nil
}

// defaultInvalid resets settings below 1 to their defaults.
func defaultInvalid(s *persistence.Settings) {
	s.PageSize = max(s.PageSize, 0)
	s.Timeout = max(s.Timeout, 0)
	s.AdminTimeout = max(s.AdminTimeout, 0)
}

func newEngine() *engine {
	e := &engine{seed: maphash.MakeSeed()}
	e.reset(0)
	return e
}

// Immediate declares that calls never wait (driver.Immediate): the
// portable layer neither times nor counts them.
func (*engine) Immediate() {}

// shard returns the shard of a stream: by its ID alone, as streams of
// different buckets rarely share one.
func (e *engine) shard(streamID string) *shard {
	return &e.shards[maphash.String(e.seed, streamID)%nShards]
}

// lockAll takes every lock but the chunks', for an operation on the whole
// engine.
func (e *engine) lockAll() {
	for i := range e.shards {
		e.shards[i].mu.Lock()
	}
	e.mu.Lock()
}

func (e *engine) unlockAll() {
	e.mu.Unlock()
	for i := range e.shards {
		e.shards[i].mu.Unlock()
	}
}

// reset empties the engine; checkpoints continue after lastCheckpoint. Every
// lock must be held (or the engine be new).
func (e *engine) reset(lastCheckpoint int64) {
	e.st = state{log: newLog(lastCheckpoint), buckets: map[string]*bucket{}}
	e.log.Store(e.st.log)
	for i := range e.shards {
		e.shards[i].streams = map[string]*stream{}
		e.shards[i].last = nil
	}
}

// Initialize does nothing: memory needs no preparation.
func (e *engine) Initialize(context.Context) error { return nil }

// Purge removes every commit and snapshot. Checkpoints keep increasing from
// where they were (the log's high-water mark survives), so a reader polling
// from an old checkpoint still sees what is committed next.
func (e *engine) Purge(context.Context) error {
	e.lockAll()
	defer e.unlockAll()
	e.reset(e.st.log.last())
	return nil
}

// Drop removes everything, like Purge, and also restarts checkpoint
// numbering at 1, as dropping a database would.
func (e *engine) Drop(context.Context) error {
	e.lockAll()
	defer e.unlockAll()
	e.reset(0)
	return nil
}

// Close releases what the engine holds. The portable layer calls no method
// after it, but may call it while calls are still running (it does not
// count the calls of a driver.Immediate): those find an empty engine, not
// a broken one.
func (e *engine) Close(ctx context.Context) error { return e.Purge(ctx) }

// Head returns the greatest checkpoint of a live commit, 0 if none. It
// looks back from the end of the log, skipping freed and emptied chunks.
func (e *engine) Head(context.Context) (int64, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	l := e.st.log
	chunks := l.chunks()
	for p := l.n.Load() - 1; p >= 0; p-- {
		ch := chunks[p>>chunkBits]
		if ch == nil || ch.live == 0 {
			p = p &^ (chunkLen - 1) // to the chunk's first position, then before it
			continue
		}
		if ch.e[p&(chunkLen-1)].s != nil {
			return l.base + p + 1, nil
		}
	}
	return 0, nil
}
