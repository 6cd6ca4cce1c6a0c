package dispatcher

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// idleNap is how long a worker whose queue ran empty naps before it blocks
// on the queue. Under a steady flow of items, a worker that blocked as soon
// as its queue was empty would make every Schedule wake its thread (a futex
// call, which costs more than dispatching the item); napping instead picks up
// what arrived meanwhile in one go. A queue half full ends the nap early, so
// that a nap never makes Schedule wait for room. It adds at most idleNap to
// the latency of a dispatch, and one nap to each idle period.
const idleNap = 200 * time.Microsecond

// queue is the bounded FIFO between the goroutines that schedule items and
// the one worker that dispatches them. The worker takes everything queued
// in one go, so the two sides, which run on different cores, hand the
// queue's cache lines to each other once per batch rather than once per
// item, as a channel's lock and counters would be.
//
// The bound counts the items waiting: the batch the worker took, and is
// dispatching, makes room for as many new ones.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T // queued, oldest first
	size   int
	closed bool

	wait  waitState     // what the worker waits for, if it waits
	wake  chan struct{} // capacity 1: wakes the waiting worker
	room  chan struct{} // closed when room is made; nil when nobody waits for it
	timer *time.Timer   // the worker's nap
}

// waitState says what a worker waiting on its queue wants to be woken for.
type waitState uint8

const (
	running  waitState = iota // not waiting
	napping                   // a nap: wake it early if the queue is half full
	blocking                  // wake it when an item arrives
)

func newQueue[T any](size int) *queue[T] {
	return &queue[T]{size: size, wake: make(chan struct{}, 1)}
}

// tryPut queues item if there is room, and reports whether it did.
func (q *queue[T]) tryPut(item T) bool {
	q.mu.Lock()
	ok := !q.closed && len(q.items) < q.size
	if ok {
		q.push(item)
	}
	q.mu.Unlock()
	return ok
}

// put queues item, waiting while the queue is full until there is room, ctx
// is done or closing is closed.
func (q *queue[T]) put(ctx context.Context, item T, closing <-chan struct{}) error {
	q.mu.Lock()
	for len(q.items) >= q.size {
		if q.room == nil {
			q.room = make(chan struct{})
		}
		room := q.room
		q.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return fmt.Errorf("dispatcher: queue full: %w", ctx.Err())
		case <-closing:
			return errScheduleClosed
		}
		q.mu.Lock()
	}
	if q.closed { // not reached: Async closes a queue once no put is in progress
		q.mu.Unlock()
		return errScheduleClosed
	}
	q.push(item)
	q.mu.Unlock()
	return nil
}

// push appends item and wakes the worker if it waits for it. q.mu is held.
func (q *queue[T]) push(item T) {
	q.items = append(q.items, item)
	if q.wait == blocking || q.wait == napping && 2*len(q.items) >= q.size {
		q.signal()
	}
}

// signal wakes the waiting worker. q.mu is held.
func (q *queue[T]) signal() {
	q.wait = running
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// take returns the items queued since the last take, oldest first. While
// there are none it naps (idleNap, or until the queue is half full), then
// blocks. The worker passes back the batch it has finished, whose array
// take reuses. ok is false once the queue is closed and empty.
func (q *queue[T]) take(done []T) (batch []T, ok bool) {
	clear(done) // let the dispatched items be collected
	q.mu.Lock()
	for state := napping; len(q.items) == 0; state = blocking {
		if q.closed {
			q.mu.Unlock()
			return nil, false
		}
		q.wait = state
		q.mu.Unlock()
		if state == napping {
			q.nap()
		} else {
			<-q.wake
		}
		q.mu.Lock()
		q.wait = running
		select { // a wake-up sent while the nap ended on its own
		case <-q.wake:
		default:
		}
	}
	batch = q.items
	q.items = done[:0]
	if q.room != nil { // release the puts waiting for room
		close(q.room)
		q.room = nil
	}
	q.mu.Unlock()
	return batch, true
}

// nap waits idleNap, or less if woken.
func (q *queue[T]) nap() {
	if q.timer == nil {
		q.timer = time.NewTimer(idleNap)
	} else {
		q.timer.Reset(idleNap)
	}
	select {
	case <-q.timer.C:
	case <-q.wake:
		q.timer.Stop()
	}
}

// close makes take report the end once the queue is empty. No put may be
// in progress or follow.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	if q.wait != running {
		q.signal()
	}
	q.mu.Unlock()
}
