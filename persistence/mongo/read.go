package mongo

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/goeventstore/eventstore/persistence/driver"
	"github.com/goeventstore/eventstore/persistence/gapfill"
)

// ReadStream returns a page of the stream's commits through the
// stream_sequence index, continuing a parked cursor (cursor.go) when the
// previous page left one. Revisions grow with the commit sequence, so the
// read ends at the first commit that starts past q.MaxRevision.
func (e *engine) ReadStream(ctx context.Context, q driver.StreamQuery) ([]driver.Commit, error) {
	key := streamKey(q.BucketID, q.StreamID)
	// Not keyed by q.Limit: the portable layer grows the pages of a long read,
	// and the parked cursor serves a page of any size.
	kind := "stream/" + key + "/" + strconv.Itoa(q.MinRevision)
	page, err := e.read(ctx, kind, int64(q.AfterSequence), q.Limit, func(ctx context.Context, after int64) (*mongo.Cursor, error) {
		filter := bson.D{kv(fKey, key), op(fSeq, "$gt", after)}
		if q.MinRevision > 1 {
			filter = append(filter, op(fRev, "$gte", int64(q.MinRevision)))
		}
		return e.commits.Find(ctx, filter, options.Find().SetSort(bson.D{kv(fSeq, 1)}).SetBatchSize(int32(q.Limit)).SetHint(idxSequence))
	}, func(d *commitDoc) int64 { return d.Seq }, func(d *commitDoc) bool { return d.first() > int64(q.MaxRevision) })
	if n := len(page); n > 0 { // for the stream's next commit (order.go)
		e.heads.put(key, int64(page[n-1].CommitSequence), page[n-1].Checkpoint)
	}
	return page, err
}

// Undispatched returns a page of the commits still flagged undispatched,
// through the undispatched index. Tombstones never carry the flag. It needs
// no gap filling: a commit that becomes visible behind the page is still
// flagged, and the next scan from the start finds it.
func (e *engine) Undispatched(ctx context.Context, after int64, limit int) ([]driver.Commit, error) {
	return e.read(ctx, "undispatched/"+strconv.Itoa(limit), after, limit, func(ctx context.Context, after int64) (*mongo.Cursor, error) {
		return e.commits.Find(ctx, bson.D{kv(fUndispatched, true), op(fID, "$gt", after)},
			options.Find().SetSort(bson.D{kv(fUndispatched, 1), kv(fID, 1)}).SetBatchSize(int32(limit)).SetHint(idxUndispatched))
	}, func(d *commitDoc) int64 { return d.ID }, nil)
}

// commits converts commit documents.
func commits(docs []commitDoc) []driver.Commit {
	out := make([]driver.Commit, len(docs))
	for i := range docs {
		out[i] = docs[i].commit()
	}
	return out
}

// How readers never miss a late commit
//
// Writers take a checkpoint before their insert is visible (checkpoint.go),
// so a reader can see 42 while 41 is still on its way, or burnt by a failed
// insert. ReadCommits reads through gapfill.Page, which settles every hole
// between two visible checkpoints by inserting a tombstone
// {_id: hole, tombstone: true} there. If that insert succeeds the number is
// dead: the writer still holding it gets a duplicate _id and retries with a
// number above everything stored, hence above everything any reader has
// read. If it fails on the duplicate _id, the commit is there (an insert is
// atomic) and the reader reads it. A run of holes (the rest of a block a
// writer left, checkpoint.go) is filled with one unordered insert, which
// goes on past the numbers taken (FillRange). Holes at or below the floor
// that Purge records are skipped without filling. Tombstones are never
// returned.

// maxIDScan bounds the checkpoints a bucket read settles per round.
const maxIDScan = 16384

// ReadCommits returns a page of commits in checkpoint order. Every bucket:
// the log's documents, tombstones dropped, until the page is full or the
// log ends. One bucket: other buckets' commits are holes in the bucket's
// order that must not be filled, so it settles the whole log as above
// reading only the checkpoints (_id, covered by the _id index), then reads
// the bucket's commits in the settled range through the bucket index;
// payloads of other buckets never travel. While a round finds too few of
// the bucket's commits, the next one settles twice as many checkpoints.
//
// The log's cursor is parked for the next page (cursor.go) with the
// position it has settled up to, which may lie past the page's last
// commit, and the purge floor, which the first page of a read looks up.
func (e *engine) ReadCommits(ctx context.Context, q driver.CommitQuery) (out []driver.Commit, err error) {
	kind := "commits/" + q.BucketID // not keyed by q.Limit, which grows along a long read
	log := &commitLog{e: e}
	if q.BucketID != "" {
		log.proj = byID
	}
	log.x, _ = e.parked.Take(parkKey{kind, q.After})
	if log.x == nil {
		// The checkpoint at or below which Purge removed everything (0 if
		// the store was never purged).
		floor, err := e.findID(ctx, bson.D{kv(fKey, floorKey)}, nil, idxSequence)
		if err != nil {
			return nil, err
		}
		log.x = &parked{at: q.After, floor: floor}
	}
	out = make([]driver.Commit, 0, min(q.Limit, 512))
	// Every checkpoint up to settled is settled; the page holds the
	// bucket's commits up to pos.
	pos, settled, scan := q.After, log.x.at, q.Limit
	defer func() {
		// Park the log's cursor after a full page if it read nothing past
		// settled.
		if err == nil && len(out) == q.Limit && log.x.cur != nil && log.x.at == settled {
			e.parked.Park(parkKey{kind, out[len(out)-1].Checkpoint}, log.x)
		} else {
			log.x.close()
		}
	}()
	for {
		want := q.Limit - len(out)
		if q.BucketID != "" {
			want = scan
		}
		entries, err := gapfill.Page(ctx, log, settled, log.x.floor, want)
		if err != nil {
			return nil, err
		}
		if len(entries) > 0 {
			settled = entries[len(entries)-1].ID
		}
		if q.BucketID == "" {
			for i := range entries {
				if !entries[i].Tombstone {
					out = append(out, entries[i].commit())
				}
			}
		} else if settled > pos {
			inRange := bson.D{kv(fBucket, q.BucketID), kv(fID, bson.D{kv("$gt", pos), kv("$lte", settled)})}
			docs, err := find(ctx, e.commits, inRange, byID, idxBucket, q.Limit-len(out), nil)
			if err != nil {
				return nil, err
			}
			out = append(out, commits(docs)...)
			scan = min(2*scan, max(maxIDScan, q.Limit))
		}
		if len(out) == q.Limit || len(entries) < want {
			return out, nil
		}
		pos = settled
	}
}

// commitLog is the commits collection as gapfill.Page sees it, for one
// page: whole documents, or only their _id. Scan continues its cursor when
// asked for what follows it.
type commitLog struct {
	e    *engine
	proj any     // the projection of its reads: nil, or byID for only the _id
	x    *parked // the cursor (if any), where it is, the purge floor
	// claims caches, per block index, when the block was claimed (0: not
	// a claimed block), for hold.
	claims map[int64]int64
}

var _ gapfill.Log[commitDoc] = (*commitLog)(nil)

// Scan implements gapfill.Log, continuing the log's cursor (cursor.go).
func (l *commitLog) Scan(ctx context.Context, after int64, limit int) ([]commitDoc, error) {
	return l.e.next(ctx, l.x, after, limit, func(ctx context.Context, after int64) (*mongo.Cursor, error) {
		return l.e.commits.Find(ctx, bson.D{op(fID, "$gt", after)},
			options.Find().SetSort(byID).SetBatchSize(int32(limit)).SetProjection(l.proj).SetHint(idxID))
	}, func(d *commitDoc) int64 { return d.ID }, nil)
}

// Checkpoint implements gapfill.Log.
func (*commitLog) Checkpoint(d commitDoc) int64 { return d.ID }

// Fill implements gapfill.Log: it inserts a tombstone at cp. A duplicate _id
// means a commit (or another reader's tombstone) is there, fully written.
func (l *commitLog) Fill(ctx context.Context, cp int64) (bool, error) {
	_, err := l.e.commits.InsertOne(ctx, tombstone(cp))
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, err
}

var _ gapfill.RangeFiller = (*commitLog)(nil)

// FillRange implements gapfill.RangeFiller: one unordered insert of the
// tombstones of [from, to), which goes on past the numbers taken (a
// duplicate _id: a commit or another reader's tombstone is there).
func (l *commitLog) FillRange(ctx context.Context, from, to int64) ([]bool, error) {
	if err := l.hold(ctx, from); err != nil {
		return nil, err
	}
	docs := make([]any, 0, to-from)
	for cp := from; cp < to; cp++ {
		docs = append(docs, tombstone(cp))
	}
	claimed := make([]bool, len(docs))
	for i := range claimed {
		claimed[i] = true
	}
	_, err := l.e.commits.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bulk mongo.BulkWriteException
	if errors.As(err, &bulk) && bulk.WriteConcernError == nil {
		for _, we := range bulk.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) || we.Index < 0 || we.Index >= len(claimed) {
				return nil, err
			}
			claimed[we.Index] = false
		}
		return claimed, nil
	}
	return claimed, err
}

// holdFor is how long after a block was claimed a reader waits, before it
// fills holes in it: the block's engine is likely numbering its commits
// there (a block takes 64 of them), and a hole filled makes it leave the
// block for another, which leaves the rest of this one to readers to fill.
// So readers fill a block only once its engine has had holdFor to use it,
// however often they poll, and a reader waits at most holdFor per page
// (block claims age together).
const holdFor = 500 * time.Millisecond

// hold waits, before the run of holes from from is filled, until the block
// the run starts in is holdFor old, if it is a claimed block (the claim's
// stamp is its engine's clock; the wait is at most holdFor whatever it
// says, and at most a quarter of the time the call has left).
func (l *commitLog) hold(ctx context.Context, from int64) error {
	if from%blockSize == 0 {
		return nil // the run starts where a claim would be: no claimed block
	}
	k := from / blockSize
	at, ok := l.claims[k]
	if !ok {
		var d commitDoc
		err := l.e.commits.FindOne(ctx, bson.D{kv(fID, k*blockSize)},
			options.FindOne().SetProjection(bson.D{kv(fTombstone, 1), kv("stamp", 1)}).SetHint(idxID)).Decode(&d)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return err
		}
		if d.Tombstone {
			at = d.Stamp
		}
		if l.claims == nil {
			l.claims = map[int64]int64{}
		}
		l.claims[k] = at
	}
	if at == 0 {
		return nil
	}
	hold := cmp.Or(l.e.hold, holdFor)
	wait := min(hold-time.Since(time.UnixMicro(at)), hold)
	if d, ok := ctx.Deadline(); ok {
		// A short operation timeout is not spent waiting: the read
		// fills sooner rather than fail.
		wait = min(wait, time.Until(d)/4)
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		l.claims[k] = 0 // waited: fill it from now on
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Get implements gapfill.Log.
func (l *commitLog) Get(ctx context.Context, cp int64) (commitDoc, bool, error) {
	var d commitDoc
	err := l.e.commits.FindOne(ctx, bson.D{kv(fID, cp)}, options.FindOne().SetProjection(l.proj).SetHint(idxID)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, false, nil
	}
	return d, err == nil, err
}

// find returns up to limit documents of coll matching filter in sort
// order (nil: any), with its cursor closed. Its batch is one greater than
// limit, so that the server answers in one batch and closes its cursor
// (FerretDB keeps a cursor open when the batch is exactly full).
func find(ctx context.Context, coll *mongo.Collection, filter bson.D, sort any, hint string, limit int, projection any) ([]commitDoc, error) {
	o := options.Find().SetSort(sort).SetLimit(int64(limit)).SetBatchSize(int32(min(limit, 1<<30) + 1)).SetHint(hint).SetProjection(projection)
	cur, err := coll.Find(ctx, filter, o)
	if err != nil {
		return nil, err
	}
	defer closeCursor(cur)
	return nextDocs(ctx, cur, limit, nil)
}
