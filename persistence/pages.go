package persistence

import (
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

// yieldPages runs a paged read: next fetches and checks the page after prev
// (the previous page, full; nil for the first), into spare if it is not nil
// (a page whose commits were all yielded), and returns it with the limit it
// asked for. yieldPages yields the page's commits and asks for the next
// page until one comes back shorter than its limit or the caller stops. It
// returns the error to report, if any.
//
// From the second full page on, the next page is fetched while this one is
// yielded: the engine's round trip and the server's work overlap the
// caller's work on this page instead of adding to it. A caller that stops
// early waits for that fetch to end, and its page is dropped. An engine
// that panics in that fetch panics in the caller's goroutine, when the
// caller reaches that page, as it would have without the fetch ahead.
func yieldPages(yield func(Commit, error) bool, next func(prev, spare []Commit) (page []Commit, limit int, err error)) error {
	type fetched struct {
		page     []Commit
		limit    int
		err      error
		panicked any // the engine panicked: raised again in the caller's goroutine
	}
	var ahead chan fetched // the fetch in flight, if any
	var page, spare []Commit
	defer func() {
		if ahead != nil {
			freePage((<-ahead).page)
		}
		freePage(page)
		freePage(spare)
	}()
	page, limit, err := next(nil, nil)
	for fulls := 0; ; {
		if err != nil {
			return err
		}
		full := len(page) == limit
		if full {
			fulls++
		}
		if full && fulls >= 2 {
			ahead = make(chan fetched, 1)
			go func(prev, spare []Commit) {
				var f fetched
				defer func() {
					if r := recover(); r != nil {
						f = fetched{panicked: r}
					}
					ahead <- f
				}()
				f.page, f.limit, f.err = next(prev, spare)
			}(page, spare)
			spare = nil
		}
		for i := range page {
			if !yield(page[i], nil) {
				return nil
			}
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
			page, limit, err = f.page, f.limit, f.err
			continue
		}
		page, limit, err = next(page, page)
	}
}

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
