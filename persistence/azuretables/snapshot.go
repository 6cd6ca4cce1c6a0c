package azuretables

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// AddSnapshot writes the snapshot row s{MaxInt32-rev} (payloads over
// 192,000 bytes in chunk rows) and raises the head's snapshot revision, in
// one batch that holds only if the head is unchanged since it was read: the
// stream exists and holds the revision.
func (e *engine) AddSnapshot(ctx context.Context, s driver.Snapshot) error {
	pk := streamPK(s.BucketID, s.StreamID)
	p := &payloadRef{data: s.Payload}
	if len(s.Payload) > inlineMax {
		if err := e.writeChunks(ctx, p); err != nil {
			return err
		}
	}
	old, oldFound, err := e.get(ctx, pk, snapshotRK(s.StreamRevision))
	if err != nil {
		return err
	}
	for {
		h, found, err := e.get(ctx, pk, headRK)
		if err != nil {
			return err
		}
		if !found || h.R < s.StreamRevision || h.B != s.BucketID || h.S != s.StreamID {
			e.dropChunks(ctx, p.c)
			return fmt.Errorf("snapshot at revision %d of bucket %q stream %q: %w", s.StreamRevision, s.BucketID, s.StreamID, driver.ErrStreamNotFound)
		}
		t := &tx{}
		en := newEnt(pk, snapshotRK(s.StreamRevision)).str("B", s.BucketID).str("S", s.StreamID).i32("R", s.StreamRevision)
		p.put(en)
		t.add(aztables.TransactionTypeInsertReplace, pk, en.bytes(), nil)
		t.add(aztables.TransactionTypeUpdateMerge, pk, newEnt(pk, headRK).i32("SR", max(h.SR, s.StreamRevision)).bytes(), etag(h.ETag))
		err = e.submit(ctx, t)
		if err == nil {
			break
		}
		if st, _ := status(err); st == http.StatusPreconditionFailed || st == http.StatusNotFound {
			continue // the head moved: read it again
		}
		return err
	}
	if oldFound && old.C != "" && old.C != p.c {
		e.dropChunks(ctx, old.C)
	}
	return nil
}

// LatestSnapshot is one query: snapshot row keys run from the greatest
// revision down.
func (e *engine) LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (driver.Snapshot, error) {
	pk := streamPK(bucketID, streamID)
	maxRevision = min(maxRevision, math.MaxInt32)
	filter := fmt.Sprintf("PartitionKey eq %s and RowKey ge '%s' and RowKey lt 't'", odataQuote(pk), snapshotRK(maxRevision))
	var out *driver.Snapshot
	err := e.query(ctx, filter, 1, func(r *row) (bool, error) {
		if r.B != bucketID || r.S != streamID {
			return true, nil
		}
		p, err := e.payload(ctx, r)
		if err != nil {
			return false, err
		}
		out = &driver.Snapshot{BucketID: bucketID, StreamID: streamID, StreamRevision: r.R, Payload: p}
		return false, nil
	})
	if err != nil {
		return driver.Snapshot{}, err
	}
	if out == nil {
		return driver.Snapshot{}, fmt.Errorf("bucket %q stream %q at or below revision %d: %w", bucketID, streamID, maxRevision, driver.ErrSnapshotNotFound)
	}
	return *out, nil
}

// StreamsToSnapshot scans the head rows of the bucket's stream partitions
// (a range of partition keys), one service page per call.
func (e *engine) StreamsToSnapshot(ctx context.Context, q driver.HeadQuery) ([]driver.StreamHead, string, error) {
	filter := fmt.Sprintf("PartitionKey gt '%s' and PartitionKey lt '%s' and RowKey eq 'h'", bucketPrefix(q.BucketID), bucketEnd(q.BucketID))
	top := int32(min(q.Limit, 1000))
	o := &aztables.ListEntitiesOptions{Filter: &filter, Top: &top}
	if q.Cursor != "" {
		pk, rk, ok := strings.Cut(q.Cursor, " ")
		if !ok {
			return nil, "", fmt.Errorf("azuretables: bad cursor %q", q.Cursor)
		}
		o.NextPartitionKey, o.NextRowKey = &pk, &rk
	}
	page, err := e.table.NewListEntitiesPager(o).NextPage(ctx)
	if err != nil {
		return nil, "", err
	}
	var heads []driver.StreamHead
	for _, b := range page.Entities {
		r, err := decodeRow(b)
		if err != nil {
			return nil, "", err
		}
		if r.B != q.BucketID || r.R-r.SR < q.Threshold {
			continue
		}
		heads = append(heads, driver.StreamHead{BucketID: r.B, StreamID: r.S, HeadRevision: r.R, SnapshotRevision: r.SR})
	}
	next := ""
	if page.NextPartitionKey != nil && *page.NextPartitionKey != "" {
		rk := ""
		if page.NextRowKey != nil {
			rk = *page.NextRowKey
		}
		next = *page.NextPartitionKey + " " + rk
	}
	return heads, next, nil
}
