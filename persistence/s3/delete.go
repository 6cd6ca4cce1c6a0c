package s3

import (
	"context"
	"sync"
)

// Deleting never removes a claim: it overwrites each live claim of the
// stream with a dead one (If-Match), reads the log's tail, and writes that
// tail into the dead claims as their horizon (see decide.go); then it
// removes the stream's commit-ID markers and snapshots. The intents stay
// in the log (a dead claim decides them as deleted), so checkpoints are
// never reused; dead claims are small and stay, one per deleted commit.

// DeleteStream deletes the stream: about 3 requests per commit.
func (e *engine) DeleteStream(ctx context.Context, bucketID, streamID string) error {
	return e.deleteStreams(ctx, []string{e.k.stream(bucketID, streamID)})
}

// PurgeBucket deletes every stream of the bucket.
func (e *engine) PurgeBucket(ctx context.Context, bucketID string) error {
	streams, err := e.folders(ctx, e.k.bucket(bucketID))
	if err != nil {
		return err
	}
	return e.deleteStreams(ctx, streams)
}

// Purge deletes every stream of every bucket.
func (e *engine) Purge(ctx context.Context) error {
	buckets, err := e.folders(ctx, e.k.streams())
	if err != nil {
		return err
	}
	var streams []string
	for _, b := range buckets {
		ss, err := e.folders(ctx, b)
		if err != nil {
			return err
		}
		streams = append(streams, ss...)
	}
	return e.deleteStreams(ctx, streams)
}

// folders lists the key prefixes one level below prefix.
func (e *engine) folders(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	start := ""
	for {
		ps, more, err := e.o.prefixes(ctx, prefix, start, 1000)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
		if !more || len(ps) == 0 {
			return out, nil
		}
		start = ps[len(ps)-1]
	}
}

// deleteStreams deletes the streams under the key prefixes streams.
func (e *engine) deleteStreams(ctx context.Context, streams []string) error {
	// 1. Kill every live claim.
	type dead struct {
		key, etag string
		cp        int64
	}
	var (
		mu     sync.Mutex
		killed []dead
		claims []string
	)
	for _, p := range streams {
		err := e.o.listAll(ctx, p+"c/", "", func(keys []string) error {
			claims = append(claims, keys...)
			return nil
		})
		if err != nil {
			return err
		}
	}
	err := each(ctx, len(claims), func(ctx context.Context, i int) error {
		key := claims[i]
		for range 8 {
			st, err := e.claimState(ctx, key)
			if err != nil {
				return err
			}
			if !st.found || (st.dead && st.horizon != 0) {
				return nil
			}
			etag := st.etag
			if !st.dead {
				if etag, err = e.putDead(ctx, key, st.cp, 0, st.etag); err != nil {
					return err
				}
				if etag == "" {
					continue // changed meanwhile: look again
				}
			}
			mu.Lock()
			killed = append(killed, dead{key, etag, st.cp})
			mu.Unlock()
			return nil
		}
		return errUnsettled
	})
	if err != nil {
		return err
	}
	// 2. The horizon: the tail now covers every intent a claim refused.
	if len(killed) > 0 {
		t, err := e.tail(ctx)
		if err != nil {
			return err
		}
		h := checkpointOf(t, maxSlotCommits-1)
		err = each(ctx, len(killed), func(ctx context.Context, i int) error {
			_, err := e.putDead(ctx, killed[i].key, killed[i].cp, h, killed[i].etag)
			return err
		})
		if err != nil {
			return err
		}
	}
	// 3. Markers and snapshots.
	var gone []string
	for _, p := range streams {
		for _, sub := range []string{"i/", "n/"} {
			err := e.o.listAll(ctx, p+sub, "", func(keys []string) error {
				gone = append(gone, keys...)
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return e.o.removeAll(ctx, gone)
}

// Drop removes every object of the engine (under its prefix). Engines in
// other processes must not be used meanwhile, not even to read (see the
// package documentation).
func (e *engine) Drop(ctx context.Context) error {
	// The portable layer runs Drop alone (driver.Dropper): no commit and
	// no read is in progress, and none starts, in this process.
	e.background.Wait() // no marker or void of a dropped log lands after the drop
	for _, top := range e.k.tops() {
		var keys []string
		err := e.o.listAll(ctx, top, "", func(page []string) error {
			keys = append(keys, page...)
			return nil
		})
		if err != nil {
			return err
		}
		if err := e.o.removeAll(ctx, keys); err != nil {
			return err
		}
	}
	e.log.reset()
	e.seen.Store(0)
	e.closed.Store(0)
	e.marked.reset()
	e.hints.reset()
	return nil
}
