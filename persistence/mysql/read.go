package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/goeventstore/eventstore/persistence/driver"
	"github.com/goeventstore/eventstore/persistence/gapfill"
)

// ReadStream returns one page of the stream's commits holding revisions in
// [q.MinRevision, q.MaxRevision], in commit sequence order: a range on
// ux_sequence (keyset paging on the commit sequence, never OFFSET). Bucket
// and stream IDs are not selected: they are the ones asked for.
func (e *engine) ReadStream(ctx context.Context, q driver.StreamQuery) ([]driver.Commit, error) {
	bk, sk := idKey(q.BucketID), idKey(q.StreamID)
	query, args := sqlReadStream, []any{bk, sk, q.AfterSequence, q.MinRevision, q.Limit}
	if q.MaxRevision != math.MaxInt {
		query, args = sqlReadStreamBounded, []any{bk, sk, q.AfterSequence, q.MinRevision, q.MaxRevision, q.Limit}
	}
	page := make([]driver.Commit, 0, min(q.Limit, 128))
	var commitID sql.RawBytes
	var stamp int64
	err := e.each(ctx, query, args, func(rows *sql.Rows) error {
		c := driver.Commit{CommitAttempt: driver.CommitAttempt{BucketID: q.BucketID, StreamID: q.StreamID}}
		if err := rows.Scan(&c.Checkpoint, &c.StreamRevision, &c.EventCount, &commitID, &c.CommitSequence, &stamp, &c.Payload); err != nil {
			return err
		}
		c.CommitStamp = time.UnixMicro(stamp).UTC()
		copy(c.CommitID[:], commitID)
		page = append(page, c)
		return nil
	})
	return page, err
}

// The checkpoint readers. Checkpoints are AUTO_INCREMENT values, handed out
// before the INSERT that uses them is visible, and burnt by INSERTs that
// fail. ReadCommits therefore reads through gapfill.Page, which settles each
// hole between two visible checkpoints by claiming it with a tombstone
// (Fill). The claim is an INSERT of the bare checkpoint:
//
//   - it succeeds: no row held the number; the writer that may still hold it
//     gets a duplicate key on PRIMARY and retries (see Commit);
//   - it fails with a duplicate key: a row is there. If its writer had not
//     committed yet, InnoDB made the claim wait for the writer's row lock,
//     so a fresh SELECT (Get) now sees the row.
//
// Holes beyond the last visible checkpoint are left alone: later polls read
// them. Holes at or below the purge floor (schema.purged, see Purge) are
// final and never claimed; the floor is read only when a reader meets a
// hole, so reads without holes cost no extra query.

// entry is a row of the commits table as the checkpoint readers see it: a
// commit, or a tombstone (a checkpoint with nothing in it).
type entry struct {
	driver.Commit
	tombstone bool
}

// reader is one ReadCommits call: the gapfill logs share its purge floor.
type reader struct {
	e         *engine
	floor     int64
	floorRead bool
}

// errBelowFloor: Fill met a hole at or below the purge floor, which it had
// not read yet; the page is read again with the floor.
var errBelowFloor = errors.New("hole below the purge floor")

// Fill claims checkpoint cp with a tombstone; claimed is false if a row
// already holds it.
func (r *reader) Fill(ctx context.Context, cp int64) (claimed bool, err error) {
	if !r.floorRead {
		if err := r.e.queryRow(ctx, sqlFloor, nil, &r.floor); err != nil {
			return false, err
		}
		r.floorRead = true
		if cp <= r.floor {
			return false, errBelowFloor
		}
	}
	_, err = r.e.exec(ctx, sqlFill, cp)
	if err == nil {
		return true, nil
	}
	if _, dup := dupKey(err); dup {
		return false, nil
	}
	return false, err
}

// settled returns gapfill.Page of log, again with the purge floor if a hole
// below it was met.
func settled[E any](ctx context.Context, r *reader, log gapfill.Log[E], after int64, limit int) ([]E, error) {
	page, err := gapfill.Page(ctx, log, after, r.floor, limit)
	if errors.Is(err, errBelowFloor) {
		page, err = gapfill.Page(ctx, log, after, r.floor, limit)
	}
	return page, err
}

// commitLog is the commits table as gapfill.Page sees it, whole rows.
type commitLog struct{ *reader }

func (l commitLog) Checkpoint(x entry) int64 { return x.Checkpoint }

func (l commitLog) Scan(ctx context.Context, after int64, limit int) ([]entry, error) {
	return l.e.queryCommits(ctx, sqlScanAll, after, limit)
}

func (l commitLog) Get(ctx context.Context, cp int64) (entry, bool, error) {
	got, err := l.e.queryCommits(ctx, sqlGetAt, cp)
	if err != nil || len(got) == 0 {
		return entry{}, false, err
	}
	return got[0], true, nil
}

// checkpointLog is the commits table as gapfill.Page sees it for bucket
// reads: checkpoints only, a primary-key range scan that sends no payloads.
type checkpointLog struct{ *reader }

func (l checkpointLog) Checkpoint(cp int64) int64 { return cp }

func (l checkpointLog) Scan(ctx context.Context, after int64, limit int) ([]int64, error) {
	out := make([]int64, 0, limit)
	err := l.e.each(ctx, sqlScanCheckpoints, []any{after, limit}, func(rows *sql.Rows) error {
		var cp int64
		err := rows.Scan(&cp)
		out = append(out, cp)
		return err
	})
	return out, err
}

func (l checkpointLog) Get(ctx context.Context, cp int64) (int64, bool, error) {
	err := l.e.queryRow(ctx, sqlGetCPAt, []any{cp}, &cp)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return cp, err == nil, err
}

// ReadCommits returns one page of commits after q.After in checkpoint order,
// never skipping one that becomes visible late.
//
// Most pages hold no hole: their checkpoints follow one another. So a page
// is first read in one pass (run), each row scanned straight into the page,
// for as long as the checkpoints do; at the first hole the rest of the page
// is read through gapfill.Page, which settles it.
func (e *engine) ReadCommits(ctx context.Context, q driver.CommitQuery) ([]driver.Commit, error) {
	r := &reader{e: e}
	if q.BucketID != "" {
		return r.readBucket(ctx, q)
	}
	out := q.Buf[:0]
	if out == nil {
		out = make([]driver.Commit, 0, min(q.Limit, 128))
	}
	pos := q.After
	for len(out) < q.Limit {
		n := q.Limit - len(out)
		var rows int
		var hole bool
		var err error
		out, pos, rows, hole, err = e.run(ctx, out, pos, n)
		if err != nil {
			return nil, err
		}
		if hole {
			return r.readSettled(ctx, out, pos, q.Limit)
		}
		if rows < n {
			break
		}
	}
	return out, nil
}

// readSettled appends to out the commits after pos, through gapfill.Page,
// until out holds limit commits or the log ends.
func (r *reader) readSettled(ctx context.Context, out []driver.Commit, pos int64, limit int) ([]driver.Commit, error) {
	for len(out) < limit {
		n := limit - len(out)
		page, err := settled(ctx, r, commitLog{r}, pos, n)
		if err != nil {
			return nil, err
		}
		out = live(out, page)
		if len(page) < n {
			break
		}
		pos = page[len(page)-1].Checkpoint
	}
	return out, nil
}

// run reads up to limit rows after pos with sqlScanAll, appending their
// commits to out, and stops at the first hole: a row whose checkpoint is
// not the one after the previous row's. It returns out, the checkpoint of
// the last row it took (tombstones included), how many rows it took, and
// whether it stopped at a hole.
func (e *engine) run(ctx context.Context, out []driver.Commit, pos int64, limit int) (_ []driver.Commit, _ int64, rows int, hole bool, _ error) {
	var sc rowScanner
	sc.init()
	err := e.each(ctx, sqlScanAll, []any{pos, limit}, func(r *sql.Rows) error {
		out = append(out, driver.Commit{})
		c := &out[len(out)-1]
		tombstone, err := sc.scan(r, c)
		if err != nil {
			return err
		}
		if c.Checkpoint != pos+1 {
			out = out[:len(out)-1]
			hole = true
			return errHole
		}
		pos = c.Checkpoint
		rows++
		if tombstone {
			out = out[:len(out)-1]
		}
		return nil
	})
	if hole {
		err = nil
	}
	return out, pos, rows, hole, err
}

// errHole stops run's rows at a hole.
var errHole = errors.New("hole")

// readBucket returns one page of the bucket's commits after q.After, with
// ReadCommits' guarantee. It proceeds in rounds: settle the global log
// (checkpoints only) up to a mark, then fetch the bucket's rows up to that
// mark, a primary-key range filtered on bucket_key. Every checkpoint at or
// below the mark is then either a visible row or a tombstone for good, so
// the bucket query misses nothing.
//
// Both passes walk the whole checkpoint range, every bucket's rows, but only
// this bucket's rows cross the network. A (bucket_key, checkpoint) index
// would spare the second pass the other buckets' rows at the price of one
// more index write per commit; the settling pass has to walk the range
// anyway, because a hole can belong to any bucket until it is settled.
func (r *reader) readBucket(ctx context.Context, q driver.CommitQuery) ([]driver.Commit, error) {
	bucketKey := idKey(q.BucketID)
	round := q.Limit * 8
	out := make([]driver.Commit, 0, min(q.Limit, 128))
	pos := q.After
	for {
		cps, err := settled(ctx, r, checkpointLog{r}, pos, round)
		if err != nil || len(cps) == 0 {
			return out, err
		}
		mark := cps[len(cps)-1]
		page, err := r.e.queryCommits(ctx, sqlReadBucket, pos, mark, bucketKey, q.Limit-len(out))
		if err != nil {
			return nil, err
		}
		out = live(out, page)
		if len(out) == q.Limit {
			return out, nil
		}
		pos = mark
		if len(cps) < round {
			return out, nil
		}
	}
}

// queryCommits runs a query selecting commitColumns and reads every row.
func (e *engine) queryCommits(ctx context.Context, query string, args ...any) ([]entry, error) {
	var out []entry
	err := e.each(ctx, query, args, func(rows *sql.Rows) error {
		x, err := scanCommit(rows)
		out = append(out, x)
		return err
	})
	return out, err
}

// live appends the commits of entries to out, tombstones left out.
func live(out []driver.Commit, entries []entry) []driver.Commit {
	for _, x := range entries {
		if !x.tombstone {
			out = append(out, x.Commit)
		}
	}
	return out
}

// scanCommit reads a row selected with commitColumns.
func scanCommit(rows *sql.Rows) (entry, error) {
	var (
		x  entry
		sc rowScanner
	)
	sc.init()
	tombstone, err := sc.scan(rows, &x.Commit)
	x.tombstone = tombstone
	return x, err
}

// rowScanner scans rows selected with commitColumns into commits: straight
// into the commit's fields where it can, with no allocation but the IDs'
// (a bucket or stream ID equal to the previous row's is shared, not copied
// again) and the payloads' arenas. A tombstone has NULL in every column
// but the checkpoint.
type rowScanner struct {
	rev, items, seq, stamp nullInt
	cp                     nullInt
	bucket, stream, id     sql.RawBytes
	payload                sql.RawBytes
	lastBucket, lastStream string
	dest                   [9]any
	// arena holds the payloads of the rows scanned, copied out of the
	// driver's buffer one after another: one allocation for a few dozen
	// payloads rather than one each, which is what a long read spent most
	// of its allocations on. A payload kept keeps at most its arena
	// (payloadArena bytes) alive; a long one gets its own allocation.
	arena []byte
}

// Bounds of a payload arena (see rowScanner.arena).
const (
	payloadArena = 32 << 10 // bytes of one arena
	payloadLong  = 4 << 10  // a payload longer than this is copied alone
)

// keep returns a copy of the payload just scanned: nil for NULL, else in
// the arena. Its capacity ends with it, so that an append to it cannot
// reach the next payload.
func (sc *rowScanner) keep() []byte {
	b := sc.payload
	switch {
	case b == nil:
		return nil
	case len(b) > payloadLong:
		return append(make([]byte, 0, len(b)), b...)
	}
	if cap(sc.arena)-len(sc.arena) < len(b) || sc.arena == nil {
		sc.arena = make([]byte, 0, payloadArena)
	}
	at := len(sc.arena)
	sc.arena = append(sc.arena, b...)
	return sc.arena[at:len(sc.arena):len(sc.arena)]
}

func (sc *rowScanner) init() {
	sc.dest = [9]any{&sc.cp, &sc.bucket, &sc.stream, &sc.rev, &sc.items, &sc.id, &sc.seq, &sc.stamp, &sc.payload}
}

// scan reads the current row into c and reports whether it is a tombstone
// (then only c.Checkpoint is set).
func (sc *rowScanner) scan(rows *sql.Rows, c *driver.Commit) (tombstone bool, err error) {
	sc.payload = nil
	if err := rows.Scan(sc.dest[:]...); err != nil {
		return false, err
	}
	if !sc.cp.ok {
		return false, errors.New("a commit row has no checkpoint")
	}
	c.Checkpoint = sc.cp.v
	if sc.stream == nil {
		return true, nil
	}
	if string(sc.bucket) != sc.lastBucket {
		sc.lastBucket = string(sc.bucket)
	}
	if string(sc.stream) != sc.lastStream {
		sc.lastStream = string(sc.stream)
	}
	c.BucketID, c.StreamID = sc.lastBucket, sc.lastStream
	c.StreamRevision, c.EventCount, c.CommitSequence = int(sc.rev.v), int(sc.items.v), int(sc.seq.v)
	c.CommitStamp = time.UnixMicro(sc.stamp.v).UTC()
	c.Payload = sc.keep()
	if len(sc.id) != len(c.CommitID) {
		return false, fmt.Errorf("commit at checkpoint %d has a %d-byte commit ID", c.Checkpoint, len(sc.id))
	}
	copy(c.CommitID[:], sc.id)
	return false, nil
}

// nullInt is an integer column that may be NULL, scanned without the
// reflection database/sql uses for an *int64 or a sql.NullInt64.
type nullInt struct {
	v  int64
	ok bool
}

// Scan implements sql.Scanner.
func (n *nullInt) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		n.v, n.ok = v, true
	case nil:
		n.v, n.ok = 0, false
	case []byte: // the text protocol
		i, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return fmt.Errorf("integer column holds %q", v)
		}
		n.v, n.ok = i, true
	default:
		return fmt.Errorf("integer column holds a %T", src)
	}
	return nil
}

// Head returns the greatest checkpoint of a commit: the primary key read
// backwards from its end, past any tombstones there.
func (e *engine) Head(ctx context.Context) (int64, error) {
	var cp int64
	err := e.queryRow(ctx, sqlHead, nil, &cp)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return cp, err
}

// Undispatched returns a page of the commits not yet marked dispatched, in
// checkpoint order: a range scan of ix_undispatched (undispatched = 1,
// checkpoint > after), never a table scan. Tombstones are never
// undispatched.
//
// It does not settle holes as ReadCommits does: that would claim or read
// every dispatched commit between two undispatched ones, a cost that grows
// with the store. None is needed either: a commit that becomes visible late
// stays undispatched, and the next recovery, which reads from the start,
// finds it.
func (e *engine) Undispatched(ctx context.Context, after int64, limit int) ([]driver.Commit, error) {
	page, err := e.queryCommits(ctx, sqlUndispatched, after, limit)
	if err != nil {
		return nil, err
	}
	return live(make([]driver.Commit, 0, len(page)), page), nil
}

// MarkDispatched clears the commit's undispatched flag. The row must still
// be the same commit (same checkpoint, stream and commit ID).
func (e *engine) MarkDispatched(ctx context.Context, c driver.Commit) error {
	_, err := e.exec(ctx, sqlMarkDispatched, c.Checkpoint, idKey(c.BucketID), idKey(c.StreamID), c.CommitID[:])
	return err
}
