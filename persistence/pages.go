package persistence

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// How a long read is paged
//
// A read asks the engine for a page of Settings.PageSize commits. A page
// that comes back full means the read goes on, and a read that keeps
// finding full pages is a long one (a stream replayed, a projection
// catching up): it asks for twice as much each time, up to maxPageGrowth
// times the page size, so that it costs a few round trips rather than one
// per PageSize commits. From its second full page on, a long read fetches
// the next page while the caller works on this one, and its page buffers
// come from, and go back to, a pool shared by all reads. Short reads (the
// usual poll) stay at one small page, fetched when asked for.

// maxPageGrowth bounds how far a long read grows its pages: up to this many
// times Settings.PageSize.
const maxPageGrowth = 8

// nextLimit is the page size after a full page of limit.
func (e *Engine) nextLimit(limit int) int {
	return min(2*limit, maxPageGrowth*e.settings.PageSize)
}

// pager is how a paged read asks for its pages. Pages follow each other
// by a key that increases along the read: a checkpoint, or a stream's
// commit sequence.
type pager struct {
	// fetch fetches and checks the page of at most limit commits after
	// key after, into buf if it is not nil.
	fetch func(after int64, limit int, buf []Commit) ([]Commit, error)
	key   func(c *Commit) int64 // a commit's key
	grow  func(limit int) int   // the limit of the page after a full one of limit
	// guess allows fetching the page after next before next comes back
	// (see yieldPages): keys that come one after the other when nothing
	// is missing between them.
	guess bool
}

// A page in flight: asked for after key after, with room for limit.
type fetched struct {
	after    int64
	limit    int
	page     []Commit
	err      error
	panicked any // the engine panicked: raised again in the caller's goroutine
}

// start fetches the page after key after in a goroutine of its own.
func (p *pager) start(after int64, limit int, buf []Commit) chan fetched {
	ch := make(chan fetched, 1)
	go func() {
		f := fetched{after: after, limit: limit}
		defer func() {
			if r := recover(); r != nil {
				f.page, f.err, f.panicked = nil, nil, r
			}
			ch <- f
		}()
		f.page, f.err = p.fetch(after, limit, buf)
	}()
	return ch
}

// yieldPages runs a paged read from key after, pages of limit commits
// first: it yields each page's commits and asks for the next page until
// one comes back shorter than its limit or the caller stops. It returns
// the error to report, if any.
//
// From the second full page on, the next page is fetched while this one is
// yielded: the engine's round trip and the server's work overlap the
// caller's work on this page instead of adding to it. And when the page
// holds every key after the last one (a full page whose keys follow each
// other: a stretch of the log with nothing missing), the read guesses that
// the next page will too, and fetches the page after it as well, from the
// key the next page would end at: two fetches are in flight instead of
// one, and a long read is no longer one round trip after another (reading
// a MySQL log through the store went from 0.61 to 0.69 of the plain
// driver). The guessed page is used only if the next page does end there,
// full: its keys then run on from there, so nothing between the two pages
// is skipped, and what each fetch returned is what a fetch made then from
// its key returns. A wrong guess costs one page fetched for nothing.
//
// A caller that stops early waits for the fetches in flight to end, and
// their pages are dropped. An engine that panics in a fetch made ahead
// panics in the caller's goroutine, when the caller reaches that page, as
// it would have without the fetch ahead.
func yieldPages(yield func(Commit, error) bool, p pager, after int64, limit int) error {
	var (
		ahead, guessed chan fetched   // the next page in flight, and the one after it
		guessedAfter   int64          // the key the guessed page starts after
		dropped        []chan fetched // guesses that were wrong, still in flight
		page, spare    []Commit
	)
	defer func() {
		for _, ch := range append(dropped, ahead, guessed) {
			if ch != nil {
				freePage((<-ch).page)
			}
		}
		freePage(page)
		freePage(spare)
	}()
	page, err := p.fetch(after, limit, nil)
	for fulls, stalls := 0, 0; ; {
		cut := errors.Is(err, errPageCut)
		if cut {
			err = nil
			if len(page) > 0 {
				stalls = 0
			} else if stalls++; stalls > maxStalls {
				return fmt.Errorf("%d calls in a row waited for a writer and ran out of time: %w", stalls, ErrStorageUnavailable)
			}
		}
		if err != nil {
			return err
		}
		full := len(page) == limit
		if full {
			fulls++
		}
		if full && fulls >= 2 {
			last, next := p.key(&page[len(page)-1]), p.grow(limit)
			if guessed != nil && guessedAfter == last {
				ahead, guessed = guessed, nil // the guess was right
			} else {
				if guessed != nil {
					dropped, guessed = append(dropped, guessed), nil
				}
				ahead = p.start(last, next, pageBuf(spare, next))
				spare = nil
			}
			if p.guess && guessed == nil && last-after == int64(limit) {
				then := p.grow(next)
				guessedAfter = last + int64(next)
				guessed = p.start(guessedAfter, then, newPage(then))
			}
		}
		for i := range page {
			if !yield(page[i], nil) {
				return nil
			}
		}
		if cut && !full {
			// Not the end: the engine ran out of time waiting for a
			// writer. Ask again after the last commit, with a new call.
			if len(page) > 0 {
				after = p.key(&page[len(page)-1])
			}
			if guessed != nil {
				dropped, guessed = append(dropped, guessed), nil
			}
			page, err = p.fetch(after, limit, pageBuf(page, limit))
			continue
		}
		if !full {
			return nil
		}
		if ahead != nil {
			f := <-ahead
			ahead = nil
			if f.panicked != nil {
				panic(f.panicked) // where it would have been raised without the fetch ahead
			}
			spare = page // yielded by value: a later page may reuse it
			page, after, limit, err = f.page, f.after, f.limit, f.err
			continue
		}
		after, limit = p.key(&page[len(page)-1]), p.grow(limit)
		page, err = p.fetch(after, limit, pageBuf(page, limit))
	}
}

// errPageCut is what a pager's fetch returns, with the page, when the
// engine cut the page short waiting for a writer (driver.ErrPageCut): the
// read goes on after the page's last commit.
var errPageCut = errors.New("page cut short")

// maxStalls is how many pages in a row may come back cut short and empty
// before a read gives up with ErrStorageUnavailable. An engine waits for a
// writer only until it may decide for it (Azure Tables: resolve_after, 3 s
// by default, against an operation timeout of 5 s), so a read whose calls
// keep running out of time without a commit is not getting answers in
// time; the bound leaves room for an operation timeout several times
// shorter than the wait.
const maxStalls = 10

// pageBuf returns the buffer for a page of a long read: spare, a page
// already yielded, emptied, or, if it is nil or too small (the page grew),
// a pooled one with room for the whole page. The page is likely full (the
// one before was), and growing it by append would copy every commit once
// more.
func pageBuf(spare []Commit, limit int) []Commit {
	if cap(spare) >= limit {
		return spare[:0]
	}
	freePage(spare)
	return newPage(limit)
}

// pagePools holds emptied page buffers: pagePools[k] those of capacity 1<<k.
var pagePools [bits.UintSize]sync.Pool

// newPage returns an empty page with room for at least limit commits.
func newPage(limit int) []Commit {
	k := bits.Len(uint(limit - 1))
	if p, ok := pagePools[k].Get().(*[]Commit); ok {
		return (*p)[:0]
	}
	return make([]Commit, 0, 1<<k)
}

// freePage gives page to the pool, cleared, so that it holds on to no
// payload: its commits were all yielded (by value) or dropped, and engines
// do not keep the pages they return. A page whose capacity is not a power
// of two was not made by newPage, and is left to the collector.
func freePage(page []Commit) {
	c := cap(page)
	if c == 0 || c&(c-1) != 0 {
		return
	}
	page = page[:c]
	clear(page)
	pagePools[bits.Len(uint(c-1))].Put(&page)
}
