package persistence

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// synthetic returns a page function serving checkpoints 1..n, each call
// recorded in calls (the query's After and Limit).
func synthetic(n int64, mu *sync.Mutex, calls *[]driver.CommitQuery) func(q driver.CommitQuery) []Commit {
	return func(q driver.CommitQuery) []Commit {
		mu.Lock()
		*calls = append(*calls, q)
		mu.Unlock()
		out := q.Buf[:0]
		for cp := q.After + 1; cp <= n && len(out) < q.Limit; cp++ {
			out = append(out, Commit{Checkpoint: cp, CommitAttempt: CommitAttempt{BucketID: DefaultBucket, StreamID: "s"}})
		}
		return out
	}
}

func TestLongReadFetchesTheNextPageAhead(t *testing.T) {
	e, d := newFake(t) // page size 2: pages of 2, 4, 8, 16, 16, ...
	var mu sync.Mutex
	var calls []driver.CommitQuery
	d.page = synthetic(40, &mu, &calls)
	callCount := func() int { mu.Lock(); defer mu.Unlock(); return len(calls) }
	var got []int64
	for c, err := range e.ReadAll(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Checkpoint)
		if c.Checkpoint == 3 { // the first commit of the second full page
			// The third page is asked for while this one is still being
			// yielded: without read-ahead it would never be, and this waits
			// in vain.
			deadline := time.Now().Add(10 * time.Second)
			for callCount() < 3 {
				if time.Now().After(deadline) {
					t.Fatalf("the third page was not fetched while the second was yielded (%d calls)", callCount())
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	if len(got) != 40 || got[0] != 1 || got[39] != 40 {
		t.Fatalf("read %d commits: %v", len(got), got)
	}
	for i := range got {
		if got[i] != int64(i+1) {
			t.Fatalf("commit %d has checkpoint %d", i, got[i])
		}
	}
	var limits []int
	for _, q := range calls {
		limits = append(limits, q.Limit)
	}
	// 2+4+8+16 = 30, then a page of 16 holding the last 10.
	if fmt.Sprint(limits) != "[2 4 8 16 16]" {
		t.Errorf("page limits %v", limits)
	}
	for i, q := range calls[1:] {
		if cap(q.Buf) < q.Limit {
			t.Errorf("page %d: Buf has room for %d commits, want %d", i+2, cap(q.Buf), q.Limit)
		}
	}
}

func TestStoppingALongReadWaitsForTheFetchAhead(t *testing.T) {
	e, d := newFake(t)
	var mu sync.Mutex
	var calls []driver.CommitQuery
	serve := synthetic(1000, &mu, &calls)
	release := make(chan struct{})
	var inFlight, ended atomic.Int64
	d.page = func(q driver.CommitQuery) []Commit {
		if q.After >= 6 { // the third page on: held until released
			inFlight.Add(1)
			<-release
			defer ended.Add(1)
		}
		return serve(q)
	}
	go func() {
		for inFlight.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		close(release)
	}()
	for c, err := range e.ReadAll(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Checkpoint == 4 {
			deadline := time.Now().Add(10 * time.Second)
			for inFlight.Load() == 0 {
				if time.Now().After(deadline) {
					close(release)
					t.Fatal("no page was fetched ahead")
				}
				time.Sleep(time.Millisecond)
			}
			break
		}
	}
	if ended.Load() != 1 {
		t.Errorf("the read returned with its fetch ahead still in flight (%d ended)", ended.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 3 {
		t.Errorf("%d pages fetched, want 3 (the last one ahead, dropped)", len(calls))
	}
}

func TestFreedPagesHoldNothing(t *testing.T) {
	p := newPage(100)
	if cap(p) != 128 || len(p) != 0 {
		t.Fatalf("newPage(100): len %d cap %d, want 0 and 128", len(p), cap(p))
	}
	p = append(p, Commit{Checkpoint: 1, CommitAttempt: CommitAttempt{Payload: []byte("x")}}, Commit{Checkpoint: 2})
	p = p[:1] // an entry beyond the length, as an engine that dropped a row leaves it
	whole := p[:cap(p)]
	freePage(p)
	for i := range whole {
		if whole[i].Checkpoint != 0 || whole[i].Payload != nil {
			t.Fatalf("entry %d of a freed page holds %+v", i, whole[i])
		}
	}
	// A slice that newPage did not make is left alone.
	odd := make([]Commit, 1, 3)
	odd[0].Checkpoint = 9
	freePage(odd)
	if odd[0].Checkpoint != 9 {
		t.Error("freePage cleared a slice it does not own")
	}
	if b := pageBuf(nil, 5); cap(b) < 5 || len(b) != 0 {
		t.Errorf("pageBuf(nil, 5): len %d cap %d", len(b), cap(b))
	}
	spare := make([]Commit, 3, 8)
	if b := pageBuf(spare, 8); cap(b) != 8 || len(b) != 0 || &b[:1][0] != &spare[0] {
		t.Error("pageBuf did not reuse a spare page with room")
	}
}

func TestAPanicInTheFetchAheadReachesTheCaller(t *testing.T) {
	e, d := newFake(t)
	var mu sync.Mutex
	var calls []driver.CommitQuery
	serve := synthetic(1000, &mu, &calls)
	d.page = func(q driver.CommitQuery) []Commit {
		if q.After >= 6 { // the third page: fetched ahead
			panic("engine bug")
		}
		return serve(q)
	}
	var got int
	func() {
		defer func() {
			if r := recover(); r != "engine bug" {
				t.Errorf("recovered %v, want the engine's panic", r)
			}
		}()
		for _, err := range e.ReadAll(context.Background(), 0) {
			if err != nil {
				t.Fatal(err)
			}
			got++
		}
	}()
	if got != 6 {
		t.Errorf("read %d commits before the panic, want the first two pages' 6", got)
	}
}
