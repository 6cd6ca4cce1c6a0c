package mongo

import (
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Stream order across processes
//
// The driver contract wants a stream's commits in increasing checkpoint
// order, and one engine alone keeps it: its hint only grows. Engines in
// other processes take numbers from hints and blocks of their own, and one
// that claimed a block ahead (checkpoint.go) may have stored a stream's commit above every
// number this engine would take next: its commit of the same stream would
// land below its predecessor, and ReadAll would yield the two the wrong way
// round (TestStreamOrderAcrossEngines). So before it inserts a stream's
// commit after the first, an engine takes a number above the checkpoint of
// the stream's previous commit (raising its hint, or leaving its block). It
// knows that checkpoint if it stored or read that commit, or a later one of
// the stream, itself (heads, a bounded cache; a later commit's checkpoint
// is a bound above it, and an attempt behind the stream's end fails
// anyway); else it reads it, one lookup on the sequence index. A stream
// appended to through one engine, or read before it is appended to (as
// Stream and Append at AnyPosition do), costs no lookup.
//
// What the cache cannot see: another process deletes the stream and writes
// it again up to the same sequence while this engine holds the old
// commit's checkpoint. Its next commit is then ordered after the old
// commit, not the new one; a DeleteStream through this engine forgets
// the stream.

// maxHeads bounds the cache: when full, it starts again empty.
const maxHeads = 1 << 16

// heads caches, per stream key, the sequence and checkpoint of a commit
// this engine stored or read.
type heads struct {
	mu sync.Mutex
	m  map[string]head
}

type head struct {
	seq int64
	cp  int64
}

// put records that the stream's commit seq has checkpoint cp.
func (h *heads) put(key string, seq, cp int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxHeads {
		h.m = make(map[string]head)
	}
	h.m[key] = head{seq, cp}
}

// get returns a checkpoint at or above that of the stream's commit seq: the
// cached commit's, if it is that one or a later one (whose checkpoint is
// greater, by the order this file keeps).
func (h *heads) get(key string, seq int64) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	x, ok := h.m[key]
	if !ok || x.seq < seq {
		return 0, false
	}
	return x.cp, true
}

// forget drops the stream's entry; with key "", every entry.
func (h *heads) forget(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if key == "" {
		h.m = nil
		return
	}
	delete(h.m, key)
}

// predecessor returns the checkpoint of the commit before doc in its
// stream (or a bound above it), 0 for a first commit: doc must get a
// greater one.
func (e *engine) predecessor(ctx context.Context, doc *commitDoc) (int64, error) {
	if doc.Seq <= 1 {
		return 0, nil
	}
	if cp, ok := e.heads.get(doc.Key, doc.Seq-1); ok {
		return cp, nil
	}
	return e.findID(ctx, bson.D{kv(fKey, doc.Key), kv(fSeq, doc.Seq-1)}, nil, idxSequence)
}
