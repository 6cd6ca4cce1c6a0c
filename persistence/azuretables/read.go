package azuretables

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/goeventstore/eventstore/persistence/driver"
)

func parseSlot(rk string) (int64, error) {
	n, err := strconv.ParseInt(rk, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("azuretables: log row %q: not a slot", rk)
	}
	return n, nil
}

// ReadStream is one range query on the stream's partition: the commit rows
// hold the payload (or point to its chunks).
func (e *engine) ReadStream(ctx context.Context, q driver.StreamQuery) ([]driver.Commit, error) {
	pk := streamPK(q.BucketID, q.StreamID)
	filter := fmt.Sprintf("PartitionKey eq %s and RowKey gt '%s' and RowKey lt 'd' and R ge %d",
		odataQuote(pk), commitRK(q.AfterSequence), q.MinRevision)
	if q.MaxRevision < math.MaxInt32 {
		filter += fmt.Sprintf(" and F le %d", q.MaxRevision)
	}
	out := q.Buf[:0]
	err := e.query(ctx, filter, q.Limit, func(r *row) (bool, error) {
		if r.B != q.BucketID || r.S != q.StreamID {
			return true, nil
		}
		c, err := e.toCommit(ctx, r, r.N)
		if err != nil {
			return false, err
		}
		out = append(out, c)
		return len(out) < q.Limit, nil
	})
	if k := len(out); k > 0 && out[k-1].CommitSequence > 0 {
		e.seen.put(pk, out[k-1].CommitSequence, out[k-1].Checkpoint)
	}
	return out, err
}

// ReadCommits is a range query on the log partition from q.After, in slot
// order, resolving the slots without a cached decision and closing the
// holes it meets (see holes.go). It waits for an undecided slot (see
// settle) or a young hole, and ends the page before it only when the
// call's deadline comes first: it then returns the page with
// driver.ErrPageCut, and the portable layer asks again from there in a
// new call.
func (e *engine) ReadCommits(ctx context.Context, q driver.CommitQuery) ([]driver.Commit, error) {
	out := q.Buf[:0]
	cur := q.After // every slot in (q.After, cur] exists and is passed
	var known []slotTime
	cut := false // the call's time ran out waiting for a writer
	for {
		filter := fmt.Sprintf("PartitionKey eq '%s' and RowKey gt '%s'", logPK, slotRK(cur))
		if q.BucketID != "" {
			filter += " and BH eq '" + idHash(q.BucketID) + "'"
		}
		again := false
		err := e.query(ctx, filter, q.Limit-len(out)+8, func(r *row) (bool, error) {
			n, err := parseSlot(r.RowKey)
			if err != nil {
				return false, err
			}
			if e.late(ctx, 0) {
				cut = true // no time left: the page ends here, the caller reads on in a new call
				return false, nil
			}
			if n > cur+1 {
				var st holeState
				if q.BucketID == "" {
					st, err = e.closeHoles(ctx, cur, n, r.Timestamp, true)
				} else {
					// The slots between are other buckets' or holes: the
					// keys tell.
					st, known, err = e.closeBetween(ctx, cur, n, r.Timestamp, known)
				}
				if err != nil || st == holePending {
					cut = err == nil // a young hole, and no time left to wait
					return false, err
				}
				if st == holeLanded {
					again = true
					return false, nil
				}
			}
			cur = n
			if q.BucketID != "" && r.B != q.BucketID {
				return true, nil
			}
			st, err := e.resolve(ctx, r, false)
			if err == nil && st == pending {
				st, err = e.settle(ctx, r)
			}
			if err != nil || st == pending {
				cut = err == nil // an undecided slot, and no time left to wait
				return false, err
			}
			if st == dead {
				return true, nil
			}
			c, err := e.commitOf(ctx, r)
			if err != nil {
				return false, err
			}
			out = append(out, c)
			return len(out) < q.Limit, nil
		})
		if err == nil && (cut || again && e.late(ctx, 0)) {
			return out, driver.ErrPageCut
		}
		if err != nil || !again {
			return out, err
		}
	}
}

// closeBetween closes the holes in (lo, hi) for a reader of one bucket,
// whose query skips other buckets' rows: it reads the keys of the log
// (a page at a time, kept in known for the next call) to tell holes from
// other buckets' slots, and closes the holes as closeHoles does; ts is the
// Timestamp of the row at hi.
func (e *engine) closeBetween(ctx context.Context, lo, hi int64, ts time.Time, known []slotTime) (holeState, []slotTime, error) {
	for lo < hi-1 {
		for len(known) > 0 && known[0].n <= lo {
			known = known[1:]
		}
		if len(known) == 0 {
			var err error
			if known, _, err = e.slotsIn(ctx, lo, -1, 1000); err != nil {
				return holePending, nil, err
			}
		}
		next, above := hi, ts
		if len(known) > 0 && known[0].n < hi {
			next, above = known[0].n, known[0].ts
		}
		if next > lo+1 {
			st, err := e.closeHoles(ctx, lo, next, above, true)
			if st != holeClosed || err != nil {
				return st, nil, err
			}
		}
		lo = next
	}
	return holeClosed, known, nil
}

// Head reads the log rows above the !tail hint and, if none of them is a
// visible commit, walks back from the hint to the greatest committed slot:
// one point read and one query when the last commit is visible.
func (e *engine) Head(ctx context.Context) (int64, error) {
	hint, err := e.tailHint(ctx)
	if err != nil {
		return 0, err
	}
	if n, err := e.lastCommitted(ctx, hint, -1); err != nil || n > 0 {
		return n, err
	}
	for hi, w := hint, int64(16); hi > 0; hi, w = hi-w, w*2 {
		if n, err := e.lastCommitted(ctx, max(hi-w, 0), hi); err != nil || n > 0 {
			return n, err
		}
	}
	return 0, nil
}

// headCols are the columns of a log row that resolve reads.
const headCols = "RowKey,Timestamp,K,B,S,D,X"

// lastCommitted returns the greatest committed slot in (lo, hi] (hi < 0:
// no upper bound), 0 if none. It reads only the columns resolve needs.
func (e *engine) lastCommitted(ctx context.Context, lo, hi int64) (int64, error) {
	filter := fmt.Sprintf("PartitionKey eq '%s' and RowKey gt '%s'", logPK, slotRK(lo))
	if hi >= 0 {
		filter += fmt.Sprintf(" and RowKey le '%s'", slotRK(hi))
	}
	sel := headCols
	p := e.table.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter, Select: &sel})
	var rows []*row
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		for _, b := range page.Entities {
			r, err := decodeRow(b)
			if err != nil {
				return 0, err
			}
			r.PartitionKey = logPK
			rows = append(rows, r)
		}
	}
	for i := len(rows) - 1; i >= 0; i-- {
		st, err := e.resolve(ctx, rows[i], false)
		if err != nil {
			return 0, err
		}
		if st == committed {
			return parseSlot(rows[i].RowKey)
		}
	}
	return 0, nil
}

// Undispatched reads the log from the dispatch low-watermark (every slot
// at or below it is dispatched or dead) for rows not marked dispatched, and
// moves the watermark up: its cost follows the commits not yet dispatched.
// It skips undecided slots without waiting and keeps the watermark below
// them.
func (e *engine) Undispatched(ctx context.Context, after int64, limit int) ([]driver.Commit, error) {
	lwm, found, err := e.get(ctx, logPK, lwmRK)
	if err != nil {
		return nil, err
	}
	var low int64
	if found {
		low = lwm.N
	}
	// The watermark may go up to the hint, read before the query, and no
	// further than every slot exists: a hole may be filled yet (denseTo).
	tail, err := e.tailHint(ctx)
	if err != nil {
		return nil, err
	}
	if after <= low && tail > low {
		// Before the query: a commit that lands in a hole after it is
		// above the dense part, so above the watermark.
		if tail, err = e.denseTo(ctx, low, tail); err != nil {
			return nil, err
		}
	}
	from := max(after, low)
	filter := fmt.Sprintf("PartitionKey eq '%s' and RowKey gt '%s' and W eq false", logPK, slotRK(from))
	var out []driver.Commit
	first := int64(-1) // the first slot that holds the watermark back
	complete := true
	err = e.query(ctx, filter, limit+8, func(r *row) (bool, error) {
		st, err := e.resolve(ctx, r, false)
		if err != nil {
			return false, err
		}
		n, _ := parseSlot(r.RowKey)
		switch st {
		case pending:
			// Its writer is alive and dispatches it itself once decided,
			// or died and a reader aborts it: skip it, but keep the
			// watermark below it (a restart reads it again).
			if first < 0 {
				first = n
			}
			return true, nil
		case dead:
			return true, nil
		}
		if first < 0 {
			first = n
		}
		c, err := e.toCommit(ctx, r, n)
		if err != nil {
			return false, err
		}
		out = append(out, c)
		if len(out) == limit {
			complete = false
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if after <= low {
		to := tail
		if first >= 0 {
			to = min(to, first-1)
		} else if !complete {
			to = low
		}
		if to > low {
			e.raiseLWM(ctx, lwm, found, to)
		}
	}
	return out, nil
}

// raiseLWM moves the dispatch watermark to n, unless another process moved
// it first (best effort: a stale watermark costs a longer query).
func (e *engine) raiseLWM(ctx context.Context, old *row, found bool, n int64) {
	en := newEnt(logPK, lwmRK).i64("N", n).bytes()
	if found {
		_, _ = e.table.UpdateEntity(ctx, en, &aztables.UpdateEntityOptions{IfMatch: etag(old.ETag), UpdateMode: aztables.UpdateModeReplace})
		return
	}
	_, _ = e.table.AddEntity(ctx, en, nil)
}

// MarkDispatched merges W=true into the commit's log row.
func (e *engine) MarkDispatched(ctx context.Context, c driver.Commit) error {
	en := newEnt(logPK, slotRK(c.Checkpoint)).boolean("W", true).bytes()
	_, err := e.table.UpdateEntity(ctx, en, &aztables.UpdateEntityOptions{IfMatch: &etagAny, UpdateMode: aztables.UpdateModeMerge})
	if isNotFound(err) {
		return nil
	}
	return err
}
