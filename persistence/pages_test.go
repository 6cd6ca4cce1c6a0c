package persistence

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// logCommit is the commit at checkpoint cp of the fake logs below.
func logCommit(cp int64) Commit {
	return Commit{Checkpoint: cp, CommitAttempt: CommitAttempt{BucketID: DefaultBucket, StreamID: "s"}}
}

// synthetic returns a page function serving checkpoints 1..n, each call
// recorded in calls (the query's After and Limit).
func synthetic(n int64, mu *sync.Mutex, calls *[]driver.CommitQuery) func(q driver.CommitQuery) []Commit {
	return func(q driver.CommitQuery) []Commit {
		mu.Lock()
		*calls = append(*calls, q)
		mu.Unlock()
		out := q.Buf[:0]
		for cp := q.After + 1; cp <= n && len(out) < q.Limit; cp++ {
			out = append(out, logCommit(cp))
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
	slices.SortFunc(calls, func(a, b driver.CommitQuery) int { return cmp.Compare(a.After, b.After) })
	var pages []string
	for _, q := range calls {
		pages = append(pages, fmt.Sprintf("%d+%d", q.After, q.Limit))
	}
	// 2+4+8+16 = 30, then a page of 16 holding the last 10; the log has
	// no gaps, so the read guessed the page after that one too (see
	// TestALongReadGuessesThePageAfterNext).
	if fmt.Sprint(pages) != "[0+2 2+4 6+8 14+16 30+16 46+16]" {
		t.Errorf("pages asked for (after+limit) %v", pages)
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
	// Two fetches were in flight: the next page, and the one after it,
	// guessed (the log has no gaps).
	if ended.Load() != 2 {
		t.Errorf("the read returned with its fetches ahead still in flight (%d of 2 ended)", ended.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 4 {
		t.Errorf("%d pages fetched, want 4 (the last two ahead, dropped)", len(calls))
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

// A long read over a stretch of the log with no gaps has two fetches in
// flight: the next page, and the page after it, asked for from where the
// next page will end if it has no gaps either.
func TestALongReadGuessesThePageAfterNext(t *testing.T) {
	e, d := newFake(t) // pages of 2, 4, 8, 16, 16, ...
	var mu sync.Mutex
	var calls []driver.CommitQuery
	serve := synthetic(100, &mu, &calls)
	guessed := make(chan struct{})
	d.page = func(q driver.CommitQuery) []Commit {
		switch q.After {
		case 6: // the third page: held until the fourth is asked for
			select {
			case <-guessed:
			case <-time.After(10 * time.Second):
				t.Error("the page after next was not asked for while the next one was in flight")
			}
		case 14: // the fourth, guessed from the second page: 2+4 ends at 6, 6+8 will end at 14
			close(guessed)
		}
		return serve(q)
	}
	var got []int64
	for c, err := range e.ReadAll(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Checkpoint)
	}
	if len(got) != 100 || !slices.IsSorted(got) || got[0] != 1 || got[99] != 100 {
		t.Fatalf("read %d commits: %v", len(got), got)
	}
}

// A guess that turns out wrong (the next page has a gap, or comes back
// short) is dropped: the read goes on from where the next page did end,
// and yields every commit once, in order, as a read without guesses does.
func TestAWrongGuessIsDropped(t *testing.T) {
	for _, gaps := range [][]int64{
		{10},         // in the third page (after 6): it ends at 15, not 14
		{3},          // in the second: no guess is made from it
		{20, 21, 22}, // in the fourth
		{7, 30, 31, 47, 48, 49, 50},
	} {
		t.Run(fmt.Sprint(gaps), func(t *testing.T) {
			e, d := newFake(t)
			var mu sync.Mutex
			var asked []int64
			d.page = func(q driver.CommitQuery) []Commit {
				mu.Lock()
				asked = append(asked, q.After)
				mu.Unlock()
				out := q.Buf[:0]
				for cp := q.After + 1; cp <= 80 && len(out) < q.Limit; cp++ {
					if !slices.Contains(gaps, cp) {
						out = append(out, logCommit(cp))
					}
				}
				return out
			}
			var got, want []int64
			for cp := int64(1); cp <= 80; cp++ {
				if !slices.Contains(gaps, cp) {
					want = append(want, cp)
				}
			}
			for c, err := range e.ReadAll(context.Background(), 0) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, c.Checkpoint)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("read %v\nwant %v", got, want)
			}
			mu.Lock()
			defer mu.Unlock()
			t.Logf("pages asked for after %v", asked)
		})
	}
}

// Reading a stream guesses too: a stream's commit sequences have no gaps.
func TestAStreamReadGuesses(t *testing.T) {
	e, d := newFake(t)
	var mu sync.Mutex
	var asked []int
	d.stream = func(q driver.StreamQuery) []Commit {
		mu.Lock()
		asked = append(asked, q.AfterSequence)
		mu.Unlock()
		out := q.Buf[:0]
		for seq := q.AfterSequence + 1; seq <= 60 && len(out) < q.Limit; seq++ {
			out = append(out, Commit{Checkpoint: int64(seq), CommitAttempt: CommitAttempt{BucketID: DefaultBucket, StreamID: "s",
				CommitSequence: seq, StreamRevision: seq, EventCount: 1}})
		}
		return out
	}
	n := 0
	for c, err := range e.ReadStream(context.Background(), DefaultBucket, "s", 0, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; c.CommitSequence != n {
			t.Fatalf("commit %d has sequence %d", n, c.CommitSequence)
		}
	}
	if n != 60 {
		t.Fatalf("read %d commits, want 60", n)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(asked)
	// 0+2, 2+4, 6+8, then guessed 14+16 (and 30+16, 46+16 from the pages after).
	if !slices.Contains(asked, 14) || !slices.Contains(asked, 46) {
		t.Errorf("pages asked for after sequences %v, want the guesses 14 and 46 among them", asked)
	}
}

// A page an engine cut short waiting for a writer (driver.ErrPageCut) is
// not the end of the read: the read yields it and asks again after its
// last commit, even when it came back empty.
func TestACutPageIsNotTheEnd(t *testing.T) {
	e, d := newFake(t)
	var mu sync.Mutex
	var asked []int64
	undecided := 2 // the slot at 20 stays undecided for the first two calls that reach it
	d.cut = func(q driver.CommitQuery) ([]Commit, bool) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, q.After)
		out := q.Buf[:0]
		for cp := q.After + 1; cp <= 50 && len(out) < q.Limit; cp++ {
			if cp == 20 && undecided > 0 {
				undecided--
				return out, true
			}
			out = append(out, logCommit(cp))
		}
		return out, false
	}
	var got []int64
	for c, err := range e.ReadAll(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Checkpoint)
	}
	want := make([]int64, 50)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("read %v\nwant 1 to 50", got)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("pages asked for after %v", asked)
	if n := strings.Count(fmt.Sprint(asked), " 19"); n < 2 {
		t.Errorf("pages asked for after %v: want two after 19, the last commit before the undecided slot", asked)
	}
}

// A read whose pages keep coming back cut short and empty gives up with
// ErrStorageUnavailable: the engine is not getting answers in time.
func TestCutPagesWithoutProgressGiveUp(t *testing.T) {
	e, d := newFake(t)
	d.cut = func(q driver.CommitQuery) ([]Commit, bool) { return q.Buf[:0], true }
	n := 0
	var last error
	for _, err := range e.ReadAll(context.Background(), 0) {
		if err == nil {
			n++
			continue
		}
		last = err
	}
	if n != 0 || !errors.Is(last, ErrStorageUnavailable) {
		t.Fatalf("%d commits, error %v; want none and ErrStorageUnavailable", n, last)
	}
	if c := d.calls.Load(); c != maxStalls+1 {
		t.Errorf("%d calls, want %d", c, maxStalls+1)
	}
	t.Log(last)
}
