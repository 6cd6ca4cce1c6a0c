package mysql

import (
	"context"
	"iter"

	"github.com/goeventstore/eventstore/persistence/gapfill"
	"github.com/goeventstore/eventstore/persistence"
)

// The checkpoint readers. Checkpoints are AUTO_INCREMENT values, handed out
// before the INSERT that uses them is visible, and burnt by INSERTs that
// fail. ReadAll and ReadBucket therefore read through gapfill.Read, which
// settles each hole between two visible checkpoints by claiming it with a
// tombstone (Fill). The claim is an INSERT of the bare checkpoint:
//
//   - it succeeds: no row held the number; the writer that may still hold it
//     gets a duplicate key on PRIMARY and retries (see Commit);
//   - it fails with a duplicate key: a row is there. If its writer had not
//     committed yet, InnoDB made the claim wait for the writer's row lock,
//     so a fresh SELECT (Get) now sees the row.
//
// Holes beyond the last visible checkpoint are left alone: later polls read
// them. Purge truncates, so numbering restarts and floor stays 0.

// floor is the checkpoint at or below which holes are final.
const floor = 0

// commitLog is the commits table as gapfill.Read sees it, whole rows.
type commitLog struct{ e *Engine }

func (l commitLog) Checkpoint(x entry) int64 { return x.Checkpoint }

func (l commitLog) Scan(ctx context.Context, after int64, limit int) ([]entry, error) {
	return l.e.queryCommits(ctx, "read all", l.e.q.scanAll, after, limit)
}

func (l commitLog) Fill(ctx context.Context, cp int64) (bool, error) { return l.e.fill(ctx, cp) }

func (l commitLog) Get(ctx context.Context, cp int64) (entry, bool, error) {
	got, err := l.e.queryCommits(ctx, "read all", l.e.q.getAt, cp)
	if err != nil || len(got) == 0 {
		return entry{}, false, err
	}
	return got[0], true, nil
}

// fill claims checkpoint cp with a tombstone; claimed is false if a row
// already holds it.
func (e *Engine) fill(ctx context.Context, cp int64) (claimed bool, err error) {
	_, err = e.exec(ctx, e.q.fill, cp)
	if err == nil {
		return true, nil
	}
	if _, dup := dupKey(err); dup {
		return false, nil
	}
	return false, fail(ctx, "claim checkpoint", err)
}

// queryCommits runs a query selecting commitColumns and reads every row.
func (e *Engine) queryCommits(ctx context.Context, op, query string, args ...any) ([]entry, error) {
	rows, err := e.query(ctx, query, args...)
	if err != nil {
		return nil, fail(ctx, op, err)
	}
	defer rows.Close()
	var out []entry
	for rows.Next() {
		x, err := scanCommit(rows)
		if err != nil {
			return nil, fail(ctx, op, err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, op, err)
	}
	return out, nil
}

// ReadAll yields the commits of every bucket after checkpoint after, in
// checkpoint order, never skipping one that becomes visible late.
func (e *Engine) ReadAll(ctx context.Context, after int64) iter.Seq2[persistence.Commit, error] {
	return func(yield func(persistence.Commit, error) bool) {
		done, err := e.enter(ctx, "read all")
		if err != nil {
			yield(persistence.Commit{}, err)
			return
		}
		defer done()
		for x, err := range gapfill.Read(ctx, commitLog{e}, after, floor, e.opts.PageSize) {
			if err != nil {
				yield(persistence.Commit{}, err)
				return
			}
			if x.tombstone {
				continue
			}
			if !yield(x.Commit, nil) {
				return
			}
		}
	}
}

// checkpointLog is the commits table as gapfill.Read sees it for bucket
// reads: checkpoints only, a primary-key range scan that sends no payloads.
type checkpointLog struct{ e *Engine }

func (l checkpointLog) Checkpoint(cp int64) int64 { return cp }

func (l checkpointLog) Scan(ctx context.Context, after int64, limit int) ([]int64, error) {
	rows, err := l.e.query(ctx, l.e.q.scanCheckpoints, after, limit)
	if err != nil {
		return nil, fail(ctx, "read bucket", err)
	}
	defer rows.Close()
	out := make([]int64, 0, limit)
	for rows.Next() {
		var cp int64
		if err := rows.Scan(&cp); err != nil {
			return nil, fail(ctx, "read bucket", err)
		}
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "read bucket", err)
	}
	return out, nil
}

func (l checkpointLog) Fill(ctx context.Context, cp int64) (bool, error) { return l.e.fill(ctx, cp) }

func (l checkpointLog) Get(ctx context.Context, cp int64) (int64, bool, error) {
	s, err := l.e.stmt(ctx, l.e.q.getCPAt)
	if err != nil {
		return 0, false, fail(ctx, "read bucket", err)
	}
	rows, err := s.QueryContext(ctx, cp)
	if err != nil {
		return 0, false, fail(ctx, "read bucket", err)
	}
	defer rows.Close()
	ok := rows.Next()
	return cp, ok, fail(ctx, "read bucket", rows.Err())
}

// ReadBucket yields the bucket's commits after checkpoint after, in
// checkpoint order, with ReadAll's guarantee. It proceeds in rounds: settle
// the global log (checkpoints only) up to a high-water mark with
// gapfill.Read, then fetch the bucket's rows up to that mark, a primary-key
// range filtered on bucket_key. Every checkpoint at or below the mark is
// then either a visible row or a tombstone for good, so the bucket query
// misses nothing.
//
// Both passes walk the whole checkpoint range, every bucket's rows, but only
// this bucket's rows cross the network. A (bucket_key, checkpoint) index
// would spare the second pass the other buckets' rows at the price of one
// more index write per commit; the settling pass has to walk the range
// anyway, because a hole can belong to any bucket until it is settled.
func (e *Engine) ReadBucket(ctx context.Context, bucketID string, after int64) iter.Seq2[persistence.Commit, error] {
	return func(yield func(persistence.Commit, error) bool) {
		if err := persistence.ValidateID("BucketID", bucketID); err != nil {
			yield(persistence.Commit{}, err)
			return
		}
		done, err := e.enter(ctx, "read bucket")
		if err != nil {
			yield(persistence.Commit{}, err)
			return
		}
		defer done()
		bucketKey := idKey(bucketID)
		round := e.opts.PageSize * 8
		pos := after
		for {
			mark, n := pos, 0
			for cp, err := range gapfill.Read(ctx, checkpointLog{e}, pos, floor, round) {
				if err != nil {
					yield(persistence.Commit{}, err)
					return
				}
				mark = cp
				if n++; n == round {
					break
				}
			}
			for pos < mark {
				page, err := e.queryCommits(ctx, "read bucket", e.q.readBucket, pos, mark, bucketKey, e.opts.PageSize)
				if err != nil {
					yield(persistence.Commit{}, err)
					return
				}
				for _, x := range page {
					if !yield(x.Commit, nil) {
						return
					}
					pos = x.Checkpoint
				}
				if len(page) < e.opts.PageSize {
					pos = mark
				}
			}
			if n < round {
				return
			}
		}
	}
}
