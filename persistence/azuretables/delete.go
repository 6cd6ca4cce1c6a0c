package azuretables

import (
	"context"
	"fmt"
	"slices"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// DeleteStream removes a stream in three steps, each safe to repeat:
//
//  1. it turns the log rows of the stream's commits into tombstones (X,
//     dispatched, payload dropped), so that checkpoint reads skip them and
//     the slots are never reused;
//  2. it deletes the stream's rows: commits, commit IDs, head, snapshots
//     and the decision rows of committed slots. The decision rows of
//     aborted slots stay (a few bytes each): they keep a writer that was
//     slower than resolve_after from completing a slot a reader has passed;
//  3. it deletes the chunk rows of large payloads.
//
// A commit that a writer adds while the delete runs survives it, in both
// the stream and the log, like a commit made after it; so does the next
// commit of a writer that read the stream before the delete, which then
// starts the stream at its sequence (the stream batch does not assert the
// predecessor: the contract lets an engine store such an attempt).
func (e *engine) DeleteStream(ctx context.Context, bucketID, streamID string) error {
	pk := streamPK(bucketID, streamID)
	var slots []int64
	var chunks []string
	var del []*row
	err := e.query(ctx, "PartitionKey eq "+odataQuote(pk), 0, func(r *row) (bool, error) {
		if keep := collect(r, &slots, &chunks); !keep {
			del = append(del, r)
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	return e.remove(ctx, slots, del, chunks)
}

// collect sorts a stream partition's row: the slot of a commit row, the
// chunks of a commit or snapshot; keep reports a row that must stay.
func collect(r *row, slots *[]int64, chunks *[]string) (keep bool) {
	if r.RowKey == "" {
		return true
	}
	switch r.RowKey[0] {
	case 'c':
		*slots = append(*slots, r.N)
	case 'n':
		return r.O != "c"
	}
	if r.C != "" {
		*chunks = append(*chunks, r.C)
	}
	return false
}

// remove tombstones slots, deletes rows and drops chunk partitions.
func (e *engine) remove(ctx context.Context, slots []int64, rows []*row, chunks []string) error {
	if err := e.tombstone(ctx, slots); err != nil {
		return err
	}
	byPK := map[string][]*row{}
	for _, r := range rows {
		byPK[r.PartitionKey] = append(byPK[r.PartitionKey], r)
	}
	for pk, rs := range byPK {
		if err := e.deleteRows(ctx, pk, rs); err != nil {
			return err
		}
	}
	for _, c := range chunks {
		if err := e.dropChunksErr(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// tombstone replaces the log rows of slots with tombstones, 100 a batch.
func (e *engine) tombstone(ctx context.Context, slots []int64) error {
	for i := 0; i < len(slots); i += maxBatchOps {
		part := slots[i:min(i+maxBatchOps, len(slots))]
		t := &tx{}
		for _, n := range part {
			t.add(aztables.TransactionTypeUpdateReplace, logPK, tombstoneEntity(n), &etagAny)
		}
		if err := e.submit(ctx, t); err == nil {
			continue
		} else if !isConflict(err) {
			return err
		}
		for _, n := range part { // one is gone (Drop): the others one by one
			_, err := e.table.UpdateEntity(ctx, tombstoneEntity(n), &aztables.UpdateEntityOptions{IfMatch: &etagAny, UpdateMode: aztables.UpdateModeReplace})
			if err != nil && !isNotFound(err) {
				return err
			}
		}
	}
	return nil
}

func tombstoneEntity(n int64) []byte {
	return newEnt(logPK, slotRK(n)).boolean("X", true).boolean("W", true).str("D", "a").bytes()
}

// deleteRows deletes rows of partition pk, 100 a batch.
func (e *engine) deleteRows(ctx context.Context, pk string, rows []*row) error {
	for i := 0; i < len(rows); i += maxBatchOps {
		part := rows[i:min(i+maxBatchOps, len(rows))]
		t := &tx{}
		for _, r := range part {
			t.add(aztables.TransactionTypeDelete, pk, newEnt(pk, r.RowKey).bytes(), &etagAny)
		}
		if err := e.submit(ctx, t); err == nil {
			continue
		} else if !isConflict(err) {
			return err
		}
		for _, r := range part { // one is gone already: the others one by one
			_, err := e.table.DeleteEntity(ctx, pk, r.RowKey, &aztables.DeleteEntityOptions{IfMatch: &etagAny})
			if err != nil && !isNotFound(err) {
				return err
			}
		}
	}
	return nil
}

// dropChunks deletes a chunk partition, best effort.
func (e *engine) dropChunks(ctx context.Context, ref string) {
	if ref != "" {
		_ = e.dropChunksErr(ctx, ref)
	}
}

func (e *engine) dropChunksErr(ctx context.Context, ref string) error {
	pk := chunkPK(ref)
	var rows []*row
	err := e.query(ctx, "PartitionKey eq "+odataQuote(pk), 0, func(r *row) (bool, error) {
		rows = append(rows, &row{PartitionKey: pk, RowKey: r.RowKey})
		return true, nil
	})
	if err != nil {
		return err
	}
	return e.deleteRows(ctx, pk, rows)
}

// Purge empties the store: every log row becomes a tombstone (slots are
// never reused), undecided slots are aborted first, and every stream
// partition is emptied as DeleteStream does.
func (e *engine) Purge(ctx context.Context) error {
	return e.purge(ctx, "", "PartitionKey gt 's' and PartitionKey lt 't'")
}

// PurgeBucket is Purge for the log rows and stream partitions of one
// bucket.
func (e *engine) PurgeBucket(ctx context.Context, bucketID string) error {
	return e.purge(ctx, bucketID, fmt.Sprintf("PartitionKey gt '%s' and PartitionKey lt '%s'", bucketPrefix(bucketID), bucketEnd(bucketID)))
}

func (e *engine) purge(ctx context.Context, bucketID, streams string) error {
	filter := fmt.Sprintf("PartitionKey eq '%s' and RowKey gt '%s'", logPK, genesisRK)
	if bucketID != "" {
		filter += " and BH eq '" + idHash(bucketID) + "'"
	}
	var slots []int64
	var chunks []string
	err := e.query(ctx, filter, 0, func(r *row) (bool, error) {
		if r.X || (bucketID != "" && r.B != bucketID) {
			return true, nil
		}
		if _, err := e.resolve(ctx, r, true); err != nil {
			return false, err
		}
		n, err := parseSlot(r.RowKey)
		if err != nil {
			return false, err
		}
		slots = append(slots, n)
		if r.C != "" {
			chunks = append(chunks, r.C)
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	var del []*row
	err = e.query(ctx, streams, 0, func(r *row) (bool, error) {
		// Commit rows name their slots too: a commit decided after the
		// log scan is found here, and its log row must go with it.
		if keep := collect(r, &slots, &chunks); !keep {
			del = append(del, r)
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	slices.Sort(slots)
	return e.remove(ctx, slices.Compact(slots), del, dedupe(chunks))
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
