package dispatcher

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// item is what the tests dispatch: a key and its position in that key.
type item struct {
	Key string
	Seq int
}

func itemKey(it item) string { return it.Key }

// recorder records successful dispatches and marks, per key, and checks that
// every mark follows a successful dispatch of the same item.
type recorder struct {
	mu         sync.Mutex
	t          testing.TB
	dispatched map[string][]int
	marked     map[item]int
	dead       []item
	deadErrs   []error
}

func newRecorder(t testing.TB) *recorder {
	return &recorder{t: t, dispatched: map[string][]int{}, marked: map[item]int{}}
}

func (r *recorder) success(it item) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dispatched[it.Key] = append(r.dispatched[it.Key], it.Seq)
}

func (r *recorder) mark(_ context.Context, it item) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ok := false
	for _, s := range r.dispatched[it.Key] {
		ok = ok || s == it.Seq
	}
	if !ok {
		r.t.Errorf("MarkDispatched(%v) before a successful Dispatch", it)
	}
	r.marked[it]++
	return nil
}

func (r *recorder) deadLetter(_ context.Context, it item, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dead = append(r.dead, it)
	r.deadErrs = append(r.deadErrs, err)
}

func (r *recorder) options() Options[item] {
	return Options[item]{
		Key:            itemKey,
		MarkDispatched: r.mark,
		DeadLetter:     r.deadLetter,
		InitialBackoff: 50 * time.Microsecond,
		MaxBackoff:     time.Millisecond,
	}
}

func (r *recorder) markedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.marked {
		n += c
	}
	return n
}

var errBoom = errors.New("boom")

func closeOK[T any](t *testing.T, s Scheduler[T]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
