// Package gapfill is for engine authors: it reads a checkpoint-ordered commit log whose writers take a
// checkpoint before their commit becomes visible, without ever skipping a
// commit that shows up late.
//
// # The trap
//
// SQL auto-increment columns and Mongo counters hand out numbers before the
// write that uses them is visible. Writer A takes 41, writer B takes 42, B
// becomes visible first; a reader that sees 42 and moves on never sees 41.
// Numbers are also burnt: an insert that fails on a unique key consumes one.
//
// # The remedy
//
// A reader that finds a hole between two visible checkpoints does not guess
// whether it is burnt or late: it settles it by claiming the hole. [Log.Fill]
// stores a tombstone at that checkpoint with the storage's own
// insert-if-absent. If the claim succeeds, no commit can ever appear there
// (the late writer's insert fails on the checkpoint key and the engine
// retries it with a new number, which lies beyond everything read so far).
// If the claim fails, the commit exists, and the reader reads it. Either way
// the hole is decided once, for every reader, with no timeouts.
//
// Holes beyond the last visible checkpoint are left alone: they will be read
// on the next poll, after the reader's position.
package gapfill

import (
	"context"
	"fmt"
	"iter"
	"slices"
)

// Log is an engine's commit log as seen by Read. E is the engine's row or
// document type; tombstones are entries too.
type Log[E any] interface {
	// Scan returns up to limit entries whose checkpoint is greater than
	// after, in increasing checkpoint order, tombstones included.
	Scan(ctx context.Context, after int64, limit int) ([]E, error)
	// Checkpoint returns the checkpoint of e.
	Checkpoint(e E) int64
	// Fill claims the free checkpoint cp with a tombstone so that no commit
	// can ever be stored there. It reports claimed=false if cp already holds
	// an entry, after waiting for any writer still busy with cp, so that a
	// following Get sees that entry.
	Fill(ctx context.Context, cp int64) (claimed bool, err error)
	// Get returns the entry at cp; ok is false if there is none.
	Get(ctx context.Context, cp int64) (e E, ok bool, err error)
}

// RangeFiller is implemented by logs that can claim a run of holes in one
// request (a bulk insert that goes on past the keys already taken): Page
// then settles each run of consecutive holes at once, rather than one
// request per hole, and when entries turned up in the run it reads them
// with one more Scan. A run of many holes is common where writers number
// in blocks or jump ahead (the rest of a block its writer left, say).
// FillRange may wait before it fills (for a writer likely to fill the
// run itself), within the context.
type RangeFiller interface {
	// FillRange claims every free checkpoint in [from, to) with a
	// tombstone, as Fill does each, and reports for each whether it
	// claimed it (false: an entry is there, or on its way).
	FillRange(ctx context.Context, from, to int64) ([]bool, error)
}

// maxFillRange bounds the holes one FillRange call claims.
const maxFillRange = 1024

// maxFillRounds bounds the Fill/Get loop for one hole. A round only repeats
// when an entry vanishes between Fill reporting it and Get reading it (a
// concurrent delete of a tombstone, say), which should not happen twice.
const maxFillRounds = 8

// Page returns up to limit entries of log with a checkpoint greater than
// after, in strictly increasing checkpoint order: what an engine's
// driver.Engine.ReadCommits returns. Tombstones that Scan or Get return are
// included (callers filter tombstones and buckets themselves); the ones Page
// stores itself are not. Between two returned entries (and between after
// and the first) no checkpoint is missing except those holding tombstones
// that this or an earlier reader filled, so a caller that asks again from
// the last checkpoint it got never misses a late commit.
//
// Holes at or below floor are skipped without filling: the engine knows
// those checkpoints are final (a purged range). A page shorter than limit
// means the log held nothing more when it was read.
func Page[E any](ctx context.Context, log Log[E], after, floor int64, limit int) ([]E, error) {
	if limit <= 0 {
		limit = 512
	}
	out := make([]E, 0, min(limit, 64))
	pos := after // last checkpoint returned (or the starting point)
	rf, _ := log.(RangeFiller)
	rescans := 0
	for len(out) < limit {
		n := limit - len(out)
		page, err := log.Scan(ctx, pos, n)
		if err != nil {
			return nil, err
		}
		rescan := false
	entries:
		for _, e := range page {
			cp := log.Checkpoint(e)
			if cp <= pos {
				return nil, fmt.Errorf("gapfill: scan after %d returned checkpoint %d out of order", pos, cp)
			}
			// Settle each hole between pos and cp, in order.
			for hole := max(pos, floor) + 1; hole < cp; {
				end := min(cp, hole+maxFillRange)
				var claimed []bool
				if rf != nil {
					if claimed, err = rf.FillRange(ctx, hole, end); err != nil {
						return nil, err
					}
					if len(claimed) != int(end-hole) {
						return nil, fmt.Errorf("gapfill: FillRange of %d holes reported %d", end-hole, len(claimed))
					}
					if slices.Contains(claimed, false) && rescans < maxFillRounds {
						// Entries turned up in the run (late commits, or a
						// writer filling the block it numbers in): the
						// next scan reads them all at once.
						rescans++
						rescan = true
						break entries
					}
				}
				for ; hole < end; hole++ {
					if claimed != nil && claimed[len(claimed)-int(end-hole)] {
						continue // a tombstone now
					}
					late, found, err := settle(ctx, log, hole)
					if err != nil {
						return nil, err
					}
					if found {
						out = append(out, late)
						pos = hole
						if len(out) == limit {
							return out, nil
						}
					}
				}
			}
			out = append(out, e)
			pos = cp
			if len(out) == limit {
				return out, nil
			}
		}
		if !rescan && len(page) < n {
			return out, nil // the log ends here
		}
	}
	return out, nil
}

// Read yields every entry of log with a checkpoint greater than after, page
// by page (see Page), and ends at the end of the log. An error is yielded
// once and ends the sequence.
func Read[E any](ctx context.Context, log Log[E], after, floor int64, pageSize int) iter.Seq2[E, error] {
	if pageSize <= 0 {
		pageSize = 512
	}
	return func(yield func(E, error) bool) {
		var zero E
		for {
			page, err := Page(ctx, log, after, floor, pageSize)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, e := range page {
				if !yield(e, nil) {
					return
				}
				after = log.Checkpoint(e)
			}
			if len(page) < pageSize {
				return
			}
		}
	}
}

// settle decides the hole at cp: it returns the entry that turned out to be
// there, or found=false if the hole is now a tombstone.
func settle[E any](ctx context.Context, log Log[E], cp int64) (e E, found bool, err error) {
	for range maxFillRounds {
		if err := ctx.Err(); err != nil {
			return e, false, err
		}
		claimed, err := log.Fill(ctx, cp)
		if err != nil {
			return e, false, err
		}
		if claimed {
			return e, false, nil
		}
		e, ok, err := log.Get(ctx, cp)
		if err != nil {
			return e, false, err
		}
		if ok {
			return e, true, nil
		}
	}
	return e, false, fmt.Errorf("gapfill: checkpoint %d neither claimable nor readable after %d rounds", cp, maxFillRounds)
}
