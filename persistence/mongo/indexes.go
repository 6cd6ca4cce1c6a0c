package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Names of the indexes Initialize creates. Commit recognises a duplicate-key
// error by the index name in the server's message where the server gives one
// (MongoDB does, FerretDB does not).
//
// Every query the engine sends names its index with a hint, so that a real
// MongoDB cannot choose a collection scan; hints_test.go checks each hint
// against the definitions below. (FerretDB accepts hints and ignores them:
// on its SQLite backend every query is a scan, see the package doc.)
const (
	// idxID is the index MongoDB keeps on _id: the checkpoint on commits,
	// "<stream key>/<revision>" on snapshots.
	idxID = "_id_"
	// idxSequence makes the server enforce optimistic concurrency: one
	// commit per (stream, commit sequence). It also serves stream reads in
	// commit sequence order.
	idxSequence = "stream_sequence"
	// idxCommitID makes the server enforce idempotency: one commit per
	// (stream, commit ID).
	idxCommitID = "stream_commit"
	// idxUndispatched finds undispatched commits in checkpoint order without
	// scanning the collection.
	idxUndispatched = "undispatched"
	// idxBucket serves bucket-wide work: ReadBucket (a bucket's commits in
	// a checkpoint range), PurgeBucket and StreamsToSnapshot.
	idxBucket = "bucket"
	// idxSnapshot serves LatestSnapshot: a stream's snapshots by revision.
	idxSnapshot = "stream_revision"
)

// index is an index Initialize creates.
type index struct {
	name   string
	keys   bson.D
	unique bool
}

// commitIndexes are the indexes of the commits collection, besides _id
// (the checkpoint). Tombstones carry a unique key of their own, so the
// unique indexes need no partial filter.
var commitIndexes = []index{
	{idxSequence, bson.D{kv(fKey, 1), kv(fSeq, 1)}, true},
	{idxCommitID, bson.D{kv(fKey, 1), kv(fCommitID, 1)}, true},
	{idxUndispatched, bson.D{kv(fUndispatched, 1), kv(fID, 1)}, false},
	{idxBucket, bson.D{kv(fBucket, 1), kv(fID, 1)}, false},
}

// snapshotIndexes are the indexes of the snapshots collection, besides _id
// ("<stream key>/<revision>", which makes AddSnapshot an upsert).
var snapshotIndexes = []index{
	{idxSnapshot, bson.D{kv(fKey, 1), kv(fRev, -1)}, false},
	{idxBucket, bson.D{kv(fBucket, 1)}, false},
}

// ensureIndexes creates those of want that coll lacks, by name, one at a
// time. Creating an existing index again would be a no-op on MongoDB, but
// FerretDB 1.24 panics on a createIndexes command naming two or more
// existing indexes, so the engine lists them first.
func ensureIndexes(ctx context.Context, coll *mongo.Collection, want []index) error {
	have, err := indexNames(ctx, coll)
	if err != nil {
		return err
	}
	for _, ix := range want {
		if have[ix.name] {
			continue
		}
		o := options.Index().SetName(ix.name)
		if ix.unique {
			o.SetUnique(true)
		}
		if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: o}); err != nil {
			return err
		}
	}
	return nil
}

// indexNames returns the names of coll's indexes.
func indexNames(ctx context.Context, coll *mongo.Collection) (map[string]bool, error) {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return nil, err
	}
	have := make(map[string]bool, len(specs))
	for _, s := range specs {
		have[s.Name] = true
	}
	return have, nil
}
