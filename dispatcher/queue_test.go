package dispatcher

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestQueueTakesAllInOrder(t *testing.T) {
	q := newQueue[int](8)
	for i := range 5 {
		if err := q.put(context.Background(), i, nil); err != nil {
			t.Fatal(err)
		}
	}
	batch, ok := q.take(nil)
	if !ok || !slices.Equal(batch, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("take = %v, %v; want [0 1 2 3 4], true", batch, ok)
	}
	q.tryPut(5)
	next, ok := q.take(batch)
	if !ok || !slices.Equal(next, []int{5}) {
		t.Fatalf("second take = %v, %v; want [5], true", next, ok)
	}
}

func TestQueueBound(t *testing.T) {
	q := newQueue[int](2)
	if !q.tryPut(1) || !q.tryPut(2) {
		t.Fatal("tryPut refused an item with room")
	}
	if q.tryPut(3) {
		t.Fatal("tryPut accepted an item over the bound")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := q.put(ctx, 3, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put on a full queue = %v, want DeadlineExceeded", err)
	}
	closing := make(chan struct{})
	close(closing)
	if err := q.put(context.Background(), 3, closing); !errors.Is(err, ErrClosed) {
		t.Fatalf("put on a full queue while closing = %v, want ErrClosed", err)
	}

	// A put waiting for room goes in once the worker takes a batch.
	done := make(chan error, 1)
	go func() { done <- q.put(context.Background(), 3, nil) }()
	select {
	case err := <-done:
		t.Fatalf("put on a full queue returned %v without waiting", err)
	case <-time.After(10 * time.Millisecond):
	}
	if batch, _ := q.take(nil); !slices.Equal(batch, []int{1, 2}) {
		t.Fatalf("take = %v, want [1 2]", batch)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if batch, _ := q.take(nil); !slices.Equal(batch, []int{3}) {
		t.Fatalf("take = %v, want [3]", batch)
	}
}

func TestQueueWakesBlockedWorker(t *testing.T) {
	q := newQueue[int](4)
	got := make(chan []int)
	go func() {
		b, _ := q.take(nil)
		got <- b
	}()
	for deadline := time.Now().Add(5 * time.Second); ; { // past the nap, the worker blocks
		q.mu.Lock()
		state := q.wait
		q.mu.Unlock()
		if state == blocking {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker waits in state %d, want blocking", state)
		}
		time.Sleep(idleNap)
	}
	q.tryPut(7)
	select {
	case b := <-got:
		if !slices.Equal(b, []int{7}) {
			t.Fatalf("take = %v, want [7]", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a put did not wake the blocked worker")
	}
}

func TestQueueCloseEndsTakeAfterTheLastItems(t *testing.T) {
	q := newQueue[int](4)
	q.tryPut(1)
	q.close()
	if q.tryPut(2) {
		t.Fatal("tryPut accepted an item after close")
	}
	if b, ok := q.take(nil); !ok || !slices.Equal(b, []int{1}) {
		t.Fatalf("take after close = %v, %v; want [1], true", b, ok)
	}
	if _, ok := q.take(nil); ok {
		t.Fatal("take on a closed, empty queue reported more")
	}

	// close also wakes a worker blocked on an empty queue.
	q = newQueue[int](4)
	ended := make(chan bool)
	go func() {
		_, ok := q.take(nil)
		ended <- ok
	}()
	time.Sleep(10 * idleNap)
	q.close()
	select {
	case ok := <-ended:
		if ok {
			t.Fatal("take reported items on a closed, empty queue")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("close did not wake the blocked worker")
	}
}

// A nap ends early once the queue is half full, so that a steady flow of
// items does not fill the queue while the worker naps.
func TestQueueHalfFullEndsNap(t *testing.T) {
	q := newQueue[int](4)
	q.mu.Lock()
	q.wait = napping
	q.mu.Unlock()
	q.tryPut(1)
	if len(q.wake) != 0 {
		t.Fatal("one item of four woke the napping worker")
	}
	q.tryPut(2)
	if len(q.wake) != 1 {
		t.Fatal("a half-full queue did not wake the napping worker")
	}
}
