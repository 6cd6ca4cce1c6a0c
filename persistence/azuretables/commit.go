package azuretables

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Commit stores a in two steps (see the package documentation):
//
//  1. the intent: a's log row, at the next free slot N, through the
//     appender (one batch on partition L, shared with concurrent commits);
//  2. the decision: one batch on the stream's partition that adds the
//     commit row c{seq}, the commit-ID row i{id} and the decision row n{N}
//     and merges the head.
//
// The commit is stored if and only if step 2 succeeded. A payload over
// 192,000 bytes first goes to chunk rows of a partition of its own, which
// both rows point to.
func (e *engine) Commit(ctx context.Context, a *driver.CommitAttempt) (driver.Commit, error) {
	p := &payloadRef{data: a.Payload}
	if len(a.Payload) > inlineMax {
		if err := e.writeChunks(ctx, p); err != nil {
			return driver.Commit{}, err
		}
	}
	id := a.CommitID.String()
	bh := idHash(a.BucketID)
	stamp := a.CommitStamp.UnixMicro()
	it := &intent{
		size: len(a.Payload)*4/3 + len(a.BucketID)*2 + len(a.StreamID)*2 + 1024,
		build: func(n int64, nonce string) []byte {
			e := newEnt(logPK, slotRK(n)).str("K", nonce).str("B", a.BucketID).str("S", a.StreamID).str("BH", bh).
				i32("Q", a.CommitSequence).i32("R", a.StreamRevision).i32("E", a.EventCount).
				str("I", id).i64("T", stamp).boolean("W", false)
			p.put(e)
			return e.bytes()
		},
	}
	if p.c != "" {
		it.size = 4096 + len(a.BucketID)*2 + len(a.StreamID)*2
	}
	pk := streamPK(a.BucketID, a.StreamID)
	type prev struct {
		n   int64
		err error
	}
	var pc chan prev
	if a.CommitSequence > 1 {
		if f, ok := e.seen.floor(pk, a.CommitSequence-1); ok {
			it.floor = f
		} else {
			// Read the previous commit's checkpoint while the intent goes
			// to the log (see order.go).
			pc = make(chan prev, 1)
			go func() {
				n, err := e.prevSlot(ctx, pk, a.CommitSequence-1)
				pc <- prev{n, err}
			}()
		}
	}
	for range 4 {
		n, nonce, err := e.log.append(ctx, it)
		if pc != nil {
			pr := <-pc
			pc = nil
			if err == nil && pr.err != nil {
				_ = e.abort(ctx, pk, n, nonce)
				return driver.Commit{}, pr.err
			}
			it.floor = pr.n
			if err == nil && n < pr.n {
				// Below the stream's previous commit: write it again above.
				if err := e.abort(ctx, pk, n, nonce); err != nil {
					return driver.Commit{}, err
				}
				continue
			}
		}
		if err != nil {
			return driver.Commit{}, err
		}
		out, err := e.decide(ctx, a, p, n, nonce)
		if err == nil {
			e.seen.put(pk, a.CommitSequence, n)
		}
		if err != errFenced {
			return out, err
		}
		// A reader took our slot for dead (we were slower than
		// resolve_after): write the intent again.
	}
	return driver.Commit{}, fmt.Errorf("azuretables: commit %d of stream %q: log slots aborted by readers repeatedly; resolve_after (%v) is shorter than a commit takes", a.CommitSequence, a.StreamID, e.resolveAfter)
}

var errFenced = fmt.Errorf("azuretables: slot aborted by a reader")

// decide submits the stream batch of intent n and reports the outcome.
func (e *engine) decide(ctx context.Context, a *driver.CommitAttempt, p *payloadRef, n int64, nonce string) (driver.Commit, error) {
	pk := streamPK(a.BucketID, a.StreamID)
	id := a.CommitID.String()
	t := &tx{}
	c := newEnt(pk, commitRK(a.CommitSequence)).i64("N", n).str("K", nonce).str("B", a.BucketID).str("S", a.StreamID).
		i32("Q", a.CommitSequence).i32("R", a.StreamRevision).i32("F", a.FirstRevision()).i32("E", a.EventCount).
		str("I", id).i64("T", a.CommitStamp.UnixMicro())
	p.put(c)
	t.add(aztables.TransactionTypeAdd, pk, c.bytes(), nil)
	t.add(aztables.TransactionTypeAdd, pk, newEnt(pk, idRK(id)).i32("Q", a.CommitSequence).i64("N", n).str("K", nonce).bytes(), nil)
	t.add(aztables.TransactionTypeAdd, pk, newEnt(pk, decisionRK(n, nonce)).str("O", "c").bytes(), nil)
	t.add(aztables.TransactionTypeInsertMerge, pk, newEnt(pk, headRK).str("B", a.BucketID).str("S", a.StreamID).
		i32("R", a.StreamRevision).i32("Q", a.CommitSequence).bytes(), nil)
	stored := driver.Commit{CommitAttempt: *a, Checkpoint: n}
	err := e.submit(ctx, t)
	if err == nil {
		e.log.mark(n, true)
		return stored, nil
	}
	// The batch failed, or its answer was lost (then the SDK's retry fails
	// on our own rows). The rows tell which.
	cr, cFound, gerr := e.get(ctx, pk, commitRK(a.CommitSequence))
	if gerr != nil {
		return driver.Commit{}, err
	}
	if cFound && cr.N == n && cr.K == nonce {
		e.log.mark(n, true)
		return stored, nil
	}
	ir, iFound, gerr := e.get(ctx, pk, idRK(id))
	if gerr != nil {
		return driver.Commit{}, err
	}
	what := fmt.Sprintf("commit %d (%s) of bucket %q stream %q", a.CommitSequence, id, a.BucketID, a.StreamID)
	if iFound {
		if ir.N == n && ir.K == nonce {
			e.log.mark(n, true)
			return stored, nil
		}
		_ = e.abort(ctx, pk, n, nonce)
		return driver.Commit{}, fmt.Errorf("%s: %w (stored as commit %d)", what, driver.ErrDuplicateCommit, ir.Q)
	}
	if cFound {
		_ = e.abort(ctx, pk, n, nonce)
		return driver.Commit{}, fmt.Errorf("%s: %w", what, driver.ErrConcurrency)
	}
	dr, dFound, gerr := e.get(ctx, pk, decisionRK(n, nonce))
	if gerr != nil {
		return driver.Commit{}, err
	}
	if dFound && dr.O == "a" {
		return driver.Commit{}, errFenced
	}
	if !isConflict(err) {
		return driver.Commit{}, err // not applied, as far as we can tell: readers will abort the slot
	}
	// A row the batch named changed under it (a delete racing the
	// commit): it was not applied.
	_ = e.abort(ctx, pk, n, nonce)
	return driver.Commit{}, fmt.Errorf("%s: %w", what, driver.ErrConcurrency)
}

// writeChunks stores p's data in chunk rows of a fresh partition, a few
// per batch, and records where in p. Chunk rows of a commit that never
// makes it are garbage nobody reads.
func (e *engine) writeChunks(ctx context.Context, p *payloadRef) error {
	p.c = newNonce()
	pk := chunkPK(p.c)
	p.cn = (len(p.data) + chunkSize - 1) / chunkSize
	for j := 0; j < p.cn; j += chunksPerTx {
		t := &tx{}
		for k := j; k < min(j+chunksPerTx, p.cn); k++ {
			en := newEnt(pk, chunkRK(k))
			putChunk(en, p.data[k*chunkSize:min((k+1)*chunkSize, len(p.data))])
			t.add(aztables.TransactionTypeInsertReplace, pk, en.bytes(), nil)
		}
		if err := e.submit(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// readChunks returns the payload r points to.
func (e *engine) payload(ctx context.Context, r *row) ([]byte, error) {
	if p, ok := r.inline(); ok {
		return p, nil
	}
	out := make([]byte, 0, r.Z)
	j := 0
	err := e.query(ctx, "PartitionKey eq "+odataQuote(chunkPK(r.C)), 0, func(c *row) (bool, error) {
		if c.RowKey != chunkRK(j) {
			return false, fmt.Errorf("azuretables: chunk %s/%s: want row %s", r.C, c.RowKey, chunkRK(j))
		}
		for _, b := range c.props() {
			out = append(out, b...)
		}
		j++
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if j != r.CN || len(out) != r.Z {
		return nil, fmt.Errorf("azuretables: payload of %s/%s: %d of %d chunk rows, %d of %d bytes: %w",
			r.PartitionKey, r.RowKey, j, r.CN, len(out), r.Z, errCorrupt)
	}
	return out, nil
}

var errCorrupt = fmt.Errorf("stored payload incomplete")

// abort decides slot n (written by batch nonce) aborted, as a reader
// would, for a writer that gave it up (its stream batch failed for good,
// or the slot is below its stream's previous commit), before Commit
// returns: readers then need not wait for the slot. The decision goes
// to the log row with the next log batch.
func (e *engine) abort(ctx context.Context, pk string, n int64, nonce string) error {
	_, err := e.table.AddEntity(ctx, newEnt(pk, decisionRK(n, nonce)).str("O", "a").bytes(), nil)
	if err != nil && !isExists(err) {
		return err
	}
	e.log.mark(n, false)
	return nil
}
