package s3

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// snapshotBody is a stored snapshot.
type snapshotBody struct {
	Bucket string `json:"b"`
	Stream string `json:"s"`
	Rev    int    `json:"r"`
	Data   []byte `json:"p"`
}

// AddSnapshot checks that the stream reaches s.StreamRevision (one GET of
// the claim at sequence s.StreamRevision, or its head), then stores the
// snapshot under its inverted revision, replacing one at the same
// revision.
func (e *engine) AddSnapshot(ctx context.Context, s driver.Snapshot) error {
	reaches := false
	key := e.k.claim(s.BucketID, s.StreamID, s.StreamRevision) // a sequence is at most its revision
	body, _, found, err := e.o.get(ctx, key)
	if err != nil {
		return err
	}
	if found {
		var c record
		if err := decode("claim", key, body, &c); err != nil {
			return err
		}
		reaches = !c.Dead && c.Rev >= s.StreamRevision
	}
	if !reaches {
		head, found, err := e.streamHead(ctx, e.k.stream(s.BucketID, s.StreamID))
		if err != nil {
			return err
		}
		reaches = found && head.Rev >= s.StreamRevision
	}
	if !reaches {
		return fmt.Errorf("%w: no commit holds revision %d", driver.ErrStreamNotFound, s.StreamRevision)
	}
	body, err = json.Marshal(snapshotBody{Bucket: s.BucketID, Stream: s.StreamID, Rev: s.StreamRevision, Data: s.Payload})
	if err != nil {
		return err
	}
	_, err = e.o.put(ctx, e.k.snapshot(s.BucketID, s.StreamID, s.StreamRevision), body, nil, "")
	return err
}

// LatestSnapshot is one LIST (from the inverted revision, one key) and one
// GET.
func (e *engine) LatestSnapshot(ctx context.Context, bucketID, streamID string, maxRevision int) (driver.Snapshot, error) {
	start := ""
	if inv := invRev(maxRevision); inv > 0 {
		start = fmt.Sprintf("%s%020d", e.k.snapshots(bucketID, streamID), inv-1)
	}
	keys, _, err := e.o.list(ctx, e.k.snapshots(bucketID, streamID), start, 1)
	if err != nil {
		return driver.Snapshot{}, err
	}
	if len(keys) == 0 {
		return driver.Snapshot{}, driver.ErrSnapshotNotFound
	}
	body, _, found, err := e.o.get(ctx, keys[0])
	if err != nil {
		return driver.Snapshot{}, err
	}
	if !found {
		return driver.Snapshot{}, driver.ErrSnapshotNotFound
	}
	var sb snapshotBody
	if err := decode("snapshot", keys[0], body, &sb); err != nil {
		return driver.Snapshot{}, err
	}
	return driver.Snapshot{BucketID: sb.Bucket, StreamID: sb.Stream, StreamRevision: sb.Rev, Payload: sb.Data}, nil
}

// streamHead returns the last live claim of the stream under prefix: a
// LIST of all its claims, then GETs from the last back.
func (e *engine) streamHead(ctx context.Context, prefix string) (record, bool, error) {
	var keys []string
	err := e.o.listAll(ctx, prefix+"c/", "", func(page []string) error {
		keys = append(keys, page...)
		return nil
	})
	if err != nil {
		return record{}, false, err
	}
	for i := len(keys) - 1; i >= 0; i-- {
		body, _, found, err := e.o.get(ctx, keys[i])
		if err != nil {
			return record{}, false, err
		}
		var c record
		if !found {
			continue
		}
		if err := decode("claim", keys[i], body, &c); err != nil {
			return record{}, false, err
		}
		if !c.Dead {
			return c, true, nil
		}
	}
	return record{}, false, nil
}

// StreamsToSnapshot lists the bucket's streams (a delimited LIST, the
// cursor is the last stream's key prefix) and for each reads its head
// (streamHead) and newest snapshot (one LIST): O(streams) requests, plus
// one LIST per 1,000 commits. S3 has no secondary index; run it from an
// administrative job.
func (e *engine) StreamsToSnapshot(ctx context.Context, q driver.HeadQuery) ([]driver.StreamHead, string, error) {
	ps, more, err := e.o.prefixes(ctx, e.k.bucket(q.BucketID), q.Cursor, int32(min(q.Limit, 1000)))
	if err != nil {
		return nil, "", err
	}
	heads := make([]*driver.StreamHead, len(ps))
	err = each(ctx, len(ps), func(ctx context.Context, i int) error {
		head, found, err := e.streamHead(ctx, ps[i])
		if err != nil || !found {
			return err
		}
		snap := 0
		keys, _, err := e.o.list(ctx, ps[i]+"n/", "", 1)
		if err != nil {
			return err
		}
		if len(keys) == 1 {
			if inv, ok := number(keys[0]); ok {
				snap = int(invRev(0) - inv)
			}
		}
		if head.Rev-snap >= q.Threshold {
			heads[i] = &driver.StreamHead{BucketID: head.Bucket, StreamID: head.Stream, HeadRevision: head.Rev, SnapshotRevision: snap}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	var out []driver.StreamHead
	for _, h := range heads {
		if h != nil {
			out = append(out, *h)
		}
	}
	next := ""
	if more && len(ps) > 0 {
		next = ps[len(ps)-1]
		if !strings.HasPrefix(next, e.k.bucket(q.BucketID)) {
			next = ""
		}
	}
	return out, next, nil
}
