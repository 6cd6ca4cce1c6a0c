package azuretables

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// A hole is a slot missing below a slot that exists: contending writers
// create slots in lanes of their own (see appender), and a writer that
// stops, or dies, leaves the rest of its lane empty. Before a reader
// passes a hole it closes it: it adds a void row there (a tombstone) by
// the same conditional insert a writer's batch uses. Whichever comes first
// holds the slot for good: a writer whose batch meets a void row gets 409
// and writes its intents further on, and a reader that meets a row where
// it wanted a void reads that row. So no intent ever lands below a slot a
// reader has passed.
//
// A writer may be about to fill a hole (its batch is on its way, or its
// lane is filling), so a reader closes a hole only once the row above it
// is older than resolve_after, as it aborts an undecided slot; meanwhile
// it waits, or ends its page before the hole.

// holeState is what closeHoles did.
type holeState int

const (
	holeClosed  holeState = iota // every slot of the hole exists now
	holeLanded                   // a writer's row landed in the hole: read it
	holePending                  // too young to close, and no time to wait
)

// voidEntity is the row a reader adds to close a hole: a tombstone.
func voidEntity(n int64) []byte {
	return newEnt(logPK, slotRK(n)).boolean("X", true).boolean("W", true).str("D", "a").boolean("V", true).bytes()
}

// closeHoles closes the slots in (lo, hi), none of which existed when the
// caller looked; above is the Timestamp of the row at hi. If wait, it waits
// (polling the lowest slot) until above is older than resolve_after, unless
// ctx's deadline comes first; else it returns holePending at once while it
// is younger.
func (e *engine) closeHoles(ctx context.Context, lo, hi int64, above time.Time, wait bool) (holeState, error) {
	pause := 5 * time.Millisecond
	for {
		left := e.resolveAfter - time.Since(above)
		if left <= 0 {
			break
		}
		if !wait {
			return holePending, nil
		}
		if stop, err := e.waitStep(ctx, min(pause, left)); stop {
			return holePending, err
		}
		if _, found, err := e.get(ctx, logPK, slotRK(lo+1)); err != nil || found {
			return holeLanded, err
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
	return e.void(ctx, lo, hi)
}

// void adds void rows at the slots in (lo, hi), a batch at a time, and
// stops at the first batch that meets a row (holeLanded).
func (e *engine) void(ctx context.Context, lo, hi int64) (holeState, error) {
	for s := lo + 1; s < hi; s += maxBatchOps {
		t := &tx{}
		for n := s; n < min(s+maxBatchOps, hi); n++ {
			t.add(aztables.TransactionTypeAdd, logPK, voidEntity(n), nil)
		}
		if err := e.submit(ctx, t); err != nil {
			if isExists(err) {
				return holeLanded, nil
			}
			return holePending, err
		}
	}
	return holeClosed, nil
}

// slotTime is a log row's slot and Timestamp.
type slotTime struct {
	n  int64
	ts time.Time
}

// slotsIn returns the slots of the log rows in (lo, hi] (hi < 0: no upper
// bound), up to max of them (0: all), with their Timestamps, reading keys only.
func (e *engine) slotsIn(ctx context.Context, lo, hi int64, max int) (out []slotTime, more bool, err error) {
	filter := fmt.Sprintf("PartitionKey eq '%s' and RowKey gt '%s'", logPK, slotRK(lo))
	if hi >= 0 {
		filter += fmt.Sprintf(" and RowKey le '%s'", slotRK(hi))
	}
	more, err = e.entities(ctx, filter, "RowKey,Timestamp", max, func(b []byte) (bool, error) {
		var k struct {
			RowKey    string
			Timestamp time.Time
		}
		if err := json.Unmarshal(b, &k); err != nil {
			return false, err
		}
		n, err := parseSlot(k.RowKey)
		if err != nil {
			return true, nil // the genesis row, the hints
		}
		out = append(out, slotTime{n, k.Timestamp})
		return max <= 0 || len(out) < max, nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// lastAbove returns the greatest slot written above lo, lo if none: the
// keys above it, or readTail if they are more than a page.
func (e *engine) lastAbove(ctx context.Context, lo int64) (int64, error) {
	keys, more, err := e.slotsIn(ctx, lo, -1, 1000)
	if err != nil {
		return 0, err
	}
	if more {
		return e.readTail(ctx)
	}
	if len(keys) == 0 {
		return lo, nil
	}
	return keys[len(keys)-1].n, nil
}

// denseTo returns the greatest m <= hi such that every slot in (lo, m]
// exists, closing the holes whose row above is older than resolve_after
// (without waiting for the others).
func (e *engine) denseTo(ctx context.Context, lo, hi int64) (int64, error) {
	for lo < hi {
		keys, _, err := e.slotsIn(ctx, lo, hi, 0)
		if err != nil {
			return lo, err
		}
		again := false
		for _, k := range keys {
			if k.n > lo+1 {
				st, err := e.closeHoles(ctx, lo, k.n, k.ts, false)
				if err != nil || st == holePending {
					return lo, err
				}
				if st == holeLanded {
					again = true
					break
				}
			}
			lo = k.n
		}
		if !again {
			return lo, nil
		}
	}
	return lo, nil
}
