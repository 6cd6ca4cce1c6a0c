package s3

import (
	"context"
	"encoding/json"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Dispatch tracking: a marker P/d/{checkpoint} per dispatched commit, and a
// low-water mark P/meta/lwm below which every commit is dispatched (or
// deleted, or was refused). Undispatched reads the log from the mark (or
// from after, if greater) and the markers above it: its cost grows with
// the commits since the mark, which are the undispatched ones and those
// dispatched since the mark last moved, never with the store. It moves the
// mark (If-Match) over the leading dispatched commits it met, and removes
// their markers.

type lwmBody struct {
	CP int64 `json:"cp"`
}

// lwm returns the low-water mark and its ETag ("" if it does not exist).
func (e *engine) lwm(ctx context.Context) (int64, string, error) {
	body, etag, found, err := e.o.get(ctx, e.k.lwm())
	if err != nil || !found {
		return 0, "", err
	}
	var l lwmBody
	return l.CP, etag, decode("dispatch mark", e.k.lwm(), body, &l)
}

// MarkDispatched writes the commit's marker (idempotent).
func (e *engine) MarkDispatched(ctx context.Context, c driver.Commit) error {
	_, err := e.o.put(ctx, e.k.dispatched(c.Checkpoint), nil, nil, "")
	return err
}

// Undispatched returns up to limit committed, undispatched commits above
// after.
func (e *engine) Undispatched(ctx context.Context, after int64, limit int) ([]driver.Commit, error) {
	low, etag, err := e.lwm(ctx)
	if err != nil {
		return nil, err
	}
	from := max(after, low)
	done := map[int64]bool{}
	var doneKeys []string
	err = e.o.listAll(ctx, e.k.dispatchedPrefix(), e.k.dispatched(from), func(keys []string) error {
		for _, k := range keys {
			if cp, ok := number(k); ok {
				done[cp] = true
				doneKeys = append(doneKeys, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []driver.Commit
	advancing := after <= low // the mark can move only over what this scan sees whole
	newLow := low
	n0, _ := slotOf(from)
	err = e.scan(ctx, n0, 1000, func(ns []int64) (bool, error) {
		return e.decided(ctx, ns, func(cp int64, _ *record) bool { return cp > from },
			func(cp int64, r *record, committed bool) bool {
				if committed && !done[cp] {
					out = append(out, r.commit(cp))
					advancing = false
					return len(out) == limit
				}
				if advancing {
					newLow = cp
				}
				return false
			},
			func() { advancing = false }) // a slot removed by a Drop
	})
	if err != nil {
		return nil, err
	}
	if newLow > low {
		e.raiseLWM(ctx, newLow, etag, doneKeys)
	}
	return out, nil
}

// raiseLWM moves the mark to cp if it is still at etag, then removes the
// markers it covers. Best effort: another reader may have moved it.
func (e *engine) raiseLWM(ctx context.Context, cp int64, etag string, doneKeys []string) {
	body, _ := json.Marshal(lwmBody{CP: cp})
	var err error
	if etag == "" {
		_, err = e.o.create(ctx, e.k.lwm(), body, nil)
	} else {
		_, err = e.o.put(ctx, e.k.lwm(), body, nil, etag)
	}
	if err != nil {
		return
	}
	var gone []string
	for _, k := range doneKeys {
		if n, ok := number(k); ok && n <= cp {
			gone = append(gone, k)
		}
	}
	_ = e.o.removeAll(ctx, gone)
}
