package persistence

import (
	"sync"
	"sync/atomic"
)

// Committed returns a channel that is closed once a commit made through this
// Engine after the call has been stored (Commit or CommitValue returned it
// without error). It lets a reader of the same process that polls
// ReadAll (a catch-up subscription, a relay) wake up at once instead of
// waiting for its next poll; commits of other processes, or of other Engine
// values over the same storage, do not close it, so such readers still poll.
//
// Take a new channel after each wake-up:
//
//	for {
//		woken := e.Committed() // before reading, so that no commit is missed
//		read(e)
//		select {
//		case <-woken:
//		case <-time.After(interval):
//		case <-ctx.Done():
//			return
//		}
//	}
//
// Every engine supports it: the portable layer does it, at the cost of an
// atomic load per commit while nobody waits.
func (e *Engine) Committed() <-chan struct{} { return e.wake.wait() }

// waker closes a channel on the next commit, for the callers of Committed.
type waker struct {
	waiting atomic.Bool // ch is not nil: a commit must close it
	mu      sync.Mutex
	ch      chan struct{}
}

func (w *waker) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
		w.waiting.Store(true)
	}
	return w.ch
}

// notify wakes the waiters, if any.
func (w *waker) notify() {
	if !w.waiting.Load() {
		return
	}
	w.mu.Lock()
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
		w.waiting.Store(false)
	}
	w.mu.Unlock()
}
