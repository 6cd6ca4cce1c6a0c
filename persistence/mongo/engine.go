package mongo

import (
	"context"
	"errors"
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/goeventstore/eventstore/persistence"
)

// Engine is the MongoDB engine. It implements persistence.Engine and is
// safe for concurrent use. Create one with Open or New.
type Engine struct {
	client    *mongo.Client
	owned     bool // Close disconnects client
	commits   *mongo.Collection
	snapshots *mongo.Collection
	opts      Options

	gate gate
	cps  checkpoints

	// purgeMu keeps this process's writers out while Purge or Drop moves
	// the checkpoint floor: Commit holds it shared, Purge and Drop
	// exclusively.
	purgeMu sync.RWMutex
}

var _ persistence.Engine = (*Engine)(nil)

// Open connects to the server named by uri, a mongodb:// or mongodb+srv://
// URL whose path names the database (default "eventstore"). The query
// options commits, snapshots and pageSize set the Options of the same names
// (opts wins when both do) and are removed before the URL goes to the
// driver; every other option is the driver's (serverSelectionTimeoutMS,
// replicaSet, ...). The engine owns the client and disconnects it on Close.
// opts may be nil.
func Open(ctx context.Context, uri string, opts *Options) (*Engine, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	driverURI, database, o, err := parseURI(uri, o)
	if err != nil {
		return nil, &persistence.ValidationError{Field: "URL", Reason: err.Error()}
	}
	co := options.Client().ApplyURI(driverURI)
	if wc := co.WriteConcern; wc != nil && !wc.Acknowledged() {
		return nil, &persistence.ValidationError{Field: "URL", Value: "w=0",
			Reason: "unacknowledged writes cannot enforce concurrency or idempotency"}
	}
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, &persistence.ValidationError{Field: "URL", Reason: err.Error()}
	}
	e := newEngine(client.Database(database), o)
	e.owned = true
	return e, nil
}

// New returns an engine over db, using a client the caller owns: Close
// leaves it connected. The client's writes must be acknowledged (not w=0).
// opts may be nil.
func New(db *mongo.Database, opts *Options) *Engine {
	var o Options
	if opts != nil {
		o = *opts
	}
	return newEngine(db, o.withDefaults())
}

// newEngine returns an engine on db. The commits are read from the primary
// with read concern "local", whatever the client's defaults: a reader that
// fails to claim a checkpoint with a tombstone must then see the commit
// that is there (see read_all.go), which a lagging secondary or a majority
// read could hide.
func newEngine(db *mongo.Database, o Options) *Engine {
	primary := options.Collection().SetReadPreference(readpref.Primary()).SetReadConcern(readconcern.Local())
	return &Engine{
		client:    db.Client(),
		commits:   db.Collection(o.Commits, primary),
		snapshots: db.Collection(o.Snapshots, primary),
		opts:      o,
	}
}

// Initialize creates the collections and their indexes (see indexes.go). It
// is idempotent and costs one round trip per collection once the indexes
// exist.
func (e *Engine) Initialize(ctx context.Context) error {
	if err := e.gate.enter(); err != nil {
		return err
	}
	defer e.gate.leave()
	if err := ensureIndexes(ctx, e.commits, commitIndexes()); err != nil {
		return storageError(ctx, "initialize", err)
	}
	if err := ensureIndexes(ctx, e.snapshots, snapshotIndexes()); err != nil {
		return storageError(ctx, "initialize", err)
	}
	return nil
}

// Drop drops both collections with their indexes. Checkpoint numbering
// starts again at 1 after the next Initialize.
func (e *Engine) Drop(ctx context.Context) error {
	if err := e.gate.enter(); err != nil {
		return err
	}
	defer e.gate.leave()
	e.purgeMu.Lock()
	defer e.purgeMu.Unlock()
	if err := e.commits.Drop(ctx); err != nil {
		return storageError(ctx, "drop", err)
	}
	if err := e.snapshots.Drop(ctx); err != nil {
		return storageError(ctx, "drop", err)
	}
	e.cps.reset()
	return nil
}

// Close refuses new calls, waits for calls in progress until ctx is done
// and, if Open created the client, disconnects it.
func (e *Engine) Close(ctx context.Context) error {
	first, err := e.gate.close(ctx)
	if !first {
		return nil
	}
	if e.owned {
		derr := e.client.Disconnect(ctx)
		if derr != nil && !errors.Is(derr, mongo.ErrClientDisconnected) {
			err = errors.Join(err, derr)
		}
	}
	return err
}
