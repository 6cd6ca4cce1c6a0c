package mongo

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Parked cursors
//
// A read comes to the engine one page per call. Answering each page with a
// new query would cost a query per page where one cursor costs one query
// and a getMore per page; on FerretDB, which filters and sorts in memory,
// every query reads the whole collection, so a read of n pages would read
// it n times. A page that ends with more to come therefore parks its cursor
// under the query and the position the next page starts from, and the next
// page, from whichever caller, continues it. A parked cursor holds no
// connection (outside load-balanced deployments, where the driver pins
// one), so the caller may call the engine between pages. It is closed
// after parkIdle unused, when parkMax others are parked, when a newer read
// parks at the same position, and when this engine deletes anything.
//
// A parked cursor may predate the latest writes. MongoDB's cursors see
// documents inserted ahead of them, but FerretDB's are snapshots, so the
// end of a parked cursor opened before a commit of this engine is not taken
// for the end of the data: when it runs out before the page is full, a new
// query continues after its last document. (Commits of other processes may
// then show up on the next read rather than this one, on FerretDB only.)
// MongoDB checks each document against the filter when it returns it, so a
// cursor never returns a commit deleted before it got there; FerretDB may,
// unless the delete was made by this engine, which closes its parked
// cursors first.

const parkMax = 64

// parkIdle is how long a cursor may stay parked (a variable for tests).
var parkIdle = 30 * time.Second

// parked is a cursor between two pages of a read.
type parked struct {
	cur   *mongo.Cursor
	gen   int64 // engine.stored when cur was opened
	at    int64 // position (sequence or checkpoint) of the last document read
	floor int64 // the purge floor a commit log read started with
}

// parkKey names the read of a kind (the query, its page size) whose next
// page starts after position at.
type parkKey struct {
	kind string
	at   int64
}

// closeParked closes every parked cursor and, if final, parks no more and
// waits (a few seconds at most) until the server has killed them.
func (e *engine) closeParked(final bool) {
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, x := range e.parked.Clear(final) {
		if final {
			wg.Go(func() { _ = x.cur.Close(ctx) })
		} else {
			x.close()
		}
	}
	wg.Wait()
}

// opener opens a cursor over the documents after a position.
type opener func(ctx context.Context, after int64) (*mongo.Cursor, error)

// read returns the next page of up to n commits of a read of kind, after
// position after: from the cursor parked there, or else from a new one. A
// full page parks the cursor at its last document.
func (e *engine) read(ctx context.Context, kind string, after int64, n int, open opener, pos func(*commitDoc) int64, past func(*commitDoc) bool) ([]driver.Commit, error) {
	x, _ := e.parked.Take(parkKey{kind, after})
	if x == nil {
		x = &parked{}
	}
	docs, err := e.next(ctx, x, after, n, open, pos, past)
	if x.cur != nil {
		e.parked.Park(parkKey{kind, x.at}, x)
	}
	return commits(docs), err
}

// next reads up to n documents after position after: from x's cursor if it
// stands there, else from one open opens. pos gives a document's position;
// past, if not nil, ends the read at the first document past its range. A
// cursor older than the engine's last commit that runs out is followed by
// a new one. x keeps its cursor only if the page is full.
func (e *engine) next(ctx context.Context, x *parked, after int64, n int, open opener, pos func(*commitDoc) int64, past func(*commitDoc) bool) ([]commitDoc, error) {
	var docs []commitDoc
	for {
		fresh := false
		if x.cur == nil || x.at != after {
			x.close()
			gen := e.stored.Load()
			cur, err := open(ctx, after)
			if err != nil {
				return nil, err
			}
			x.cur, x.gen, x.at, fresh = cur, gen, after, true
		}
		more, err := nextDocs(ctx, x.cur, n-len(docs), past)
		if err != nil && (fresh || !isCursorNotFound(err)) {
			x.close()
			return nil, err
		}
		docs = append(docs, more...)
		if len(docs) > 0 {
			x.at = pos(&docs[len(docs)-1])
		}
		if past != nil && len(more) > 0 && past(&more[len(more)-1]) {
			x.close()
			return docs[:len(docs)-1], nil
		}
		if len(docs) == n {
			return docs, nil
		}
		x.close()
		if err == nil && (fresh || x.gen == e.stored.Load()) {
			return docs, nil
		}
		after = x.at // a cursor older than the last commit ran out: query again
	}
}

// close closes x's cursor, if any.
func (x *parked) close() {
	if x.cur != nil {
		closeCursor(x.cur)
		x.cur = nil
	}
}

// nextDocs reads up to n documents from cur; if past is not nil, it stops
// after the first document past reports (which it returns last).
func nextDocs(ctx context.Context, cur *mongo.Cursor, n int, past func(*commitDoc) bool) ([]commitDoc, error) {
	docs := make([]commitDoc, 0, min(n, 512))
	for len(docs) < n && cur.Next(ctx) {
		docs = append(docs, commitDoc{})
		d := &docs[len(docs)-1]
		if err := cur.Decode(d); err != nil {
			return nil, err
		}
		if past != nil && past(d) {
			break
		}
	}
	return docs, cur.Err()
}

// killTimeout bounds killing a server cursor.
const killTimeout = 5 * time.Second

// closeCursor closes cur. A cursor the server still holds (a read that
// stopped early, or failed) is killed in the background, so that a failing
// server does not hold up the call; one it exhausted costs nothing.
func closeCursor(cur *mongo.Cursor) {
	if cur.ID() == 0 {
		_ = cur.Close(context.Background())
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
		defer cancel()
		_ = cur.Close(ctx)
	}()
}

// isCursorNotFound reports whether the server no longer knows a cursor.
func isCursorNotFound(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(43)
}
