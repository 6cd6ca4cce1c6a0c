package mongo

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/internal/engines"
)

// The engine registers itself for both URL schemes of MongoDB, so that
// persistence.OpenURL and eventstore's Wireup().UsingMongo(uri) open it.
func init() {
	persistence.Register("mongodb", Open)
	persistence.Register("mongodb+srv", Open)
}

// engine is the MongoDB driver under persistence.Engine. It implements
// driver.Engine and every optional capability.
type engine struct {
	client    *mongo.Client
	owned     bool // Close disconnects client
	commits   *mongo.Collection
	snapshots *mongo.Collection

	cps    checkpoints
	hold   time.Duration                     // holdFor, unless a test sets another (0: holdFor)
	heads  heads                             // streams' last commits seen (order.go)
	stored atomic.Int64                      // commits this engine stored
	parked engines.Parking[parkKey, *parked] // cursors between the pages of a read (cursor.go)

	// purgeMu keeps this process's writers out while Purge or Drop moves
	// the checkpoint floor: Commit holds it shared, Purge and Drop
	// exclusively.
	purgeMu sync.RWMutex
}

var _ engines.Client = (*engine)(nil)

// Open connects to the server named by uri, a mongodb:// or mongodb+srv://
// URL whose path names the database (default "eventstore"). Its query
// parameters commits and snapshots name the collections (as
// WithCommitsCollection and WithSnapshotsCollection do; opts win), the
// portable ones (page_size, op_timeout, admin_timeout) set the portable
// settings, and every other one is the driver's (replicaSet, authSource,
// serverSelectionTimeoutMS...). Unless the URL sets them, the driver's
// server selection and connect timeouts are the operation timeout, so that
// a call fails within it while the server is down. The engine owns the
// client and disconnects it on Close. Connecting is lazy: Open dials
// nothing.
func Open(ctx context.Context, uri string, opts ...persistence.Option) (*persistence.Engine, error) {
	d, s, err := open(uri, opts...)
	if err != nil {
		return nil, err
	}
	return persistence.NewEngineWithSettings("mongodb", d, s), nil
}

func open(uri string, opts ...persistence.Option) (*engine, *persistence.Settings, error) {
	rest, s, err := persistence.ParseEngineSettings(uri, []string{optCommits, optSnapshots}, opts...)
	if err != nil {
		return nil, nil, err
	}
	driverURI, database, err := parseURI(rest)
	if err != nil {
		return nil, nil, &persistence.ValidationError{Field: "URL", Reason: err.Error()}
	}
	commits, snapshots, err := collections(s)
	if err != nil {
		return nil, nil, err
	}
	co, err := clientOptions(driverURI, s)
	if err != nil {
		return nil, nil, err
	}
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, nil, &persistence.ValidationError{Field: "URL", Reason: err.Error()}
	}
	d := newEngine(client.Database(database), commits, snapshots)
	d.owned = true
	return d, s, nil
}

// clientOptions returns the driver's options for uri: the operation timeout
// bounds server selection and connecting unless uri sets them, and
// unacknowledged writes are refused.
func clientOptions(uri string, s *persistence.Settings) (*options.ClientOptions, error) {
	co := options.Client().ApplyURI(uri)
	if wc := co.WriteConcern; wc != nil && !wc.Acknowledged() {
		return nil, &persistence.ValidationError{Field: "URL", Value: "w=0",
			Reason: "unacknowledged writes cannot enforce concurrency or idempotency"}
	}
	if co.ServerSelectionTimeout == nil {
		co.SetServerSelectionTimeout(s.Timeout)
	}
	if co.ConnectTimeout == nil {
		co.SetConnectTimeout(s.Timeout)
	}
	return co, nil
}

// New returns an engine over db, on a client the caller owns: Close leaves
// it connected. The client's writes must be acknowledged (not w=0).
func New(db *mongo.Database, opts ...persistence.Option) (*persistence.Engine, error) {
	if db == nil {
		return nil, &persistence.ValidationError{Field: "db", Reason: "must not be nil"}
	}
	return persistence.NewEngineFrom("mongodb", func(s *persistence.Settings) (*engine, error) {
		commits, snapshots, err := collections(s)
		if err != nil {
			return nil, err
		}
		return newEngine(db, commits, snapshots), nil
	}, opts...)
}

// newEngine returns an engine on db. The commits are read from the primary
// with read concern "local", whatever the client's defaults: a reader that
// fails to claim a checkpoint with a tombstone must then see the commit
// that is there (see read.go), which a lagging secondary or a majority read
// could hide.
func newEngine(db *mongo.Database, commits, snapshots string) *engine {
	primary := options.Collection().SetReadPreference(readpref.Primary()).SetReadConcern(readconcern.Local())
	return &engine{
		client:    db.Client(),
		commits:   db.Collection(commits, primary),
		snapshots: db.Collection(snapshots, primary),
		parked:    engines.Parking[parkKey, *parked]{Idle: parkIdle, Max: parkMax, Close: (*parked).close},
	}
}

// String names the engine for logs, without credentials.
func (e *engine) String() string {
	return "mongodb engine (" + e.commits.Database().Name() + "." + e.commits.Name() + ")"
}

// As sets *target to the engine's *mongo.Client or *mongo.Database.
func (e *engine) As(target any) bool {
	return engines.As(target, e.client) || engines.As(target, e.commits.Database())
}

// Initialize creates the collections and their indexes (see indexes.go). It
// is idempotent and costs one round trip per collection once the indexes
// exist.
func (e *engine) Initialize(ctx context.Context) error {
	if err := ensureIndexes(ctx, e.commits, commitIndexes); err != nil {
		return err
	}
	return ensureIndexes(ctx, e.snapshots, snapshotIndexes)
}

// Drop drops both collections with their indexes. Checkpoint numbering
// starts again at 1 after the next Initialize.
func (e *engine) Drop(ctx context.Context) error {
	e.purgeMu.Lock()
	defer e.purgeMu.Unlock()
	e.cps.bg.Wait() // no claim made ahead lands in the dropped collection's place
	e.closeParked(false)
	if err := e.commits.Drop(ctx); err != nil {
		return err
	}
	if err := e.snapshots.Drop(ctx); err != nil {
		return err
	}
	e.cps.reset()
	e.heads.forget("")
	return nil
}

// Close closes the parked cursors and disconnects the client if Open
// created it.
func (e *engine) Close(ctx context.Context) error {
	e.cps.bg.Wait() // a claim made ahead is bounded by claimAheadTimeout
	e.closeParked(true)
	if !e.owned {
		return nil
	}
	if err := e.client.Disconnect(ctx); !errors.Is(err, mongo.ErrClientDisconnected) {
		return err
	}
	return nil
}

// Head returns the greatest checkpoint of a commit (tombstones aside): one
// walk down the _id index, which stops at the first commit.
func (e *engine) Head(ctx context.Context) (int64, error) {
	return e.findID(ctx, bson.D{op(fTombstone, "$ne", true)}, bson.D{kv(fID, -1)}, idxID)
}

// findID returns the _id of the first commit document matching filter in
// sort order (nil: any order), through the index hint names; 0 if none
// matches.
func (e *engine) findID(ctx context.Context, filter bson.D, sort any, hint string) (int64, error) {
	var d commitDoc
	err := e.commits.FindOne(ctx, filter, options.FindOne().SetSort(sort).SetProjection(byID).SetHint(hint)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return d.ID, err
}
