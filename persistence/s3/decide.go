package s3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Claims decide intents. The claim of (bucket, stream, sequence) is
// created once, by a conditional create, by the intent's writer or by any
// reader that meets the intent undecided (roll-forward); from then on the
// intent at the claim's checkpoint is committed and every other intent
// for that sequence is refused, forever:
//
//   - a live claim holding checkpoint cp: the intent at cp is committed,
//     every other intent of that sequence refused;
//   - no claim: undecided; whoever meets the intent decides it by creating
//     the claim;
//   - a dead claim (DeleteStream or a purge removed its commit): its own
//     intent is deleted; intents at or below its horizon stay refused (the
//     horizon is the log's tail when the claim died, so it covers every
//     intent the live claim can have refused); an intent above the horizon
//     came after the deletion and takes the claim over with a conditional
//     overwrite (If-Match), exactly as a create would. A dead claim whose
//     horizon is not yet written (the deleter is between its two writes)
//     gets it from whoever meets it.
//
// Claims are never removed, only overwritten as above, so a decision, once
// anyone has seen it, never changes: that is what lets a reader move past
// a checkpoint for good.

// Metadata of claims, so that HEAD decides an intent.
const (
	metaDead    = "dead"
	metaHorizon = "horizon"
)

// claimState is what HEAD says of a claim.
type claimState struct {
	found   bool
	cp      int64
	dead    bool
	horizon int64
	etag    string
}

func (e *engine) claimState(ctx context.Context, key string) (claimState, error) {
	meta, etag, found, err := e.o.head(ctx, key)
	if err != nil || !found {
		return claimState{}, err
	}
	st := claimState{found: true, etag: etag, dead: meta[metaDead] == "1"}
	if st.cp, err = strconv.ParseInt(meta[metaCP], 10, 64); err != nil {
		return st, fmt.Errorf("s3: claim %s has no checkpoint metadata", key)
	}
	if h := meta[metaHorizon]; h != "" {
		st.horizon, _ = strconv.ParseInt(h, 10, 64)
	}
	return st, nil
}

// claimBody returns the claim of rec at cp: the commit itself, so that a
// stream reads its claims and nothing else.
func claimBody(rec *record, cp int64) ([]byte, map[string]string, error) {
	c := *rec
	c.CP = cp
	body, err := json.Marshal(&c)
	return body, map[string]string{metaCP: strconv.FormatInt(cp, 10)}, err
}

// errUnsettled: a claim kept changing under decide.
var errUnsettled = errors.New("s3: a claim kept changing while deciding an intent")

// decide returns whether the intent rec at checkpoint cp is committed,
// deciding it if nobody has. A writer passes create true to try the
// conditional create first (it expects the key to be free); readers HEAD
// first.
func (e *engine) decide(ctx context.Context, rec *record, cp int64, create bool) (bool, error) {
	key := e.k.claim(rec.Bucket, rec.Stream, rec.Seq)
	for range 8 {
		var st claimState
		if !create {
			var err error
			if st, err = e.claimState(ctx, key); err != nil {
				return false, err
			}
		}
		switch {
		case !st.found:
			body, meta, err := claimBody(rec, cp)
			if err != nil {
				return false, err
			}
			_, err = e.o.create(ctx, key, body, meta)
			if err == nil {
				return true, nil
			}
			if !errors.Is(err, errExists) {
				return false, err
			}
			// Taken, perhaps by this very request (an answer lost and
			// retried by the SDK): look.
			create = false
		case !st.dead:
			return st.cp == cp, nil
		case st.cp == cp:
			return false, nil // committed, then deleted
		case st.horizon == 0:
			if err := e.settle(ctx, key, st); err != nil {
				return false, err
			}
		case cp <= st.horizon:
			return false, nil
		default:
			body, meta, err := claimBody(rec, cp)
			if err != nil {
				return false, err
			}
			_, err = e.o.put(ctx, key, body, meta, st.etag)
			if err == nil {
				return true, nil
			}
			if !errors.Is(err, errExists) {
				return false, err
			}
		}
	}
	return false, fmt.Errorf("%w: %s", errUnsettled, key)
}

// settle writes the horizon of the dead claim at key: the log's tail now,
// which is at or above every intent the live claim refused.
func (e *engine) settle(ctx context.Context, key string, st claimState) error {
	t, err := e.tail(ctx)
	if err != nil {
		return err
	}
	_, err = e.putDead(ctx, key, st.cp, checkpointOf(t, maxSlotCommits-1), st.etag)
	return err
}

// putDead overwrites the claim at key, if its ETag is etag, with a dead
// claim of checkpoint cp and horizon h (0: not yet known), and returns its
// ETag. A claim changed meanwhile is left as it is ("" and no error).
func (e *engine) putDead(ctx context.Context, key string, cp, h int64, etag string) (string, error) {
	body, err := json.Marshal(&record{CP: cp, Dead: true, Horizon: h})
	if err != nil {
		return "", err
	}
	meta := map[string]string{metaCP: strconv.FormatInt(cp, 10), metaDead: "1"}
	if h != 0 {
		meta[metaHorizon] = strconv.FormatInt(h, 10)
	}
	etag, err = e.o.put(ctx, key, body, meta, etag)
	if errors.Is(err, errExists) {
		return "", nil
	}
	return etag, err
}

// tail returns the number of the log's last slot.
func (e *engine) tail(ctx context.Context) (int64, error) {
	e.log.mu.Lock()
	from := e.log.next - 1
	e.log.mu.Unlock()
	if from < 0 {
		from = 0
	}
	from = max(from, e.seen.Load())
	t, err := lastSlot(ctx, e.o, e.k, from)
	if err == nil {
		e.see(t)
	}
	return t, err
}
