package gapfill

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// entry is a commit (id > 0) or a tombstone (id == 0).
type entry struct {
	cp int64
	id int
}

// memLog is a log whose writers take numbers from a counter and insert
// later, as SQL auto-increment and Mongo counters do. Insert is
// insert-if-absent, like a primary key.
type memLog struct {
	mu      sync.Mutex
	rows    map[int64]entry
	counter atomic.Int64
	scans   atomic.Int64
}

func newMemLog() *memLog { return &memLog{rows: map[int64]entry{}} }

func (l *memLog) insert(e entry) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, taken := l.rows[e.cp]; taken {
		return false
	}
	l.rows[e.cp] = e
	return true
}

// write stores commit id the way an engine does: take a number, maybe stall,
// insert, and retry with a new number if a reader claimed it meanwhile.
// burn makes the first attempt fail as a unique-key violation would.
func (l *memLog) write(id int, stall time.Duration, burn bool) int64 {
	for {
		cp := l.counter.Add(1)
		time.Sleep(stall)
		if burn {
			burn = false
			continue // the number is lost, as after a duplicate-key failure
		}
		if l.insert(entry{cp: cp, id: id}) {
			return cp
		}
	}
}

func (l *memLog) Scan(_ context.Context, after int64, limit int) ([]entry, error) {
	l.scans.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []entry
	for _, e := range l.rows {
		if e.cp > after {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return int(a.cp - b.cp) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (l *memLog) Checkpoint(e entry) int64 { return e.cp }

func (l *memLog) Fill(_ context.Context, cp int64) (bool, error) {
	return l.insert(entry{cp: cp}), nil
}

func (l *memLog) Get(_ context.Context, cp int64) (entry, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.rows[cp]
	return e, ok, nil
}

func collect(t *testing.T, l Log[entry], after, floor int64, page int) []entry {
	t.Helper()
	var out []entry
	for e, err := range Read(context.Background(), l, after, floor, page) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestReadFillsBurntHoles(t *testing.T) {
	l := newMemLog()
	l.write(1, 0, false) // cp 1
	l.write(2, 0, true)  // cp 2 burnt, stored at 3
	l.write(3, 0, false) // cp 4
	got := collect(t, l, 0, 0, 2)
	var ids []int
	for _, e := range got {
		if e.id != 0 {
			ids = append(ids, e.id)
		}
	}
	if !slices.Equal(ids, []int{1, 2, 3}) {
		t.Fatalf("commits read = %v, want [1 2 3]", ids)
	}
	if e, ok, _ := l.Get(context.Background(), 2); !ok || e.id != 0 {
		t.Fatalf("checkpoint 2 = %+v, %v; want a tombstone", e, ok)
	}
}

func TestReadClaimsHoleOfLateWriter(t *testing.T) {
	l := newMemLog()
	// A writer takes checkpoint 1 and stalls; another stores 2 meanwhile.
	late := l.counter.Add(1)
	l.write(2, 0, false)
	got := collect(t, l, 0, 0, 10)
	if len(got) != 1 || got[0].id != 2 {
		t.Fatalf("read %+v, want only commit 2 (checkpoint 1 claimed)", got)
	}
	if e, ok, _ := l.Get(context.Background(), late); !ok || e.id != 0 {
		t.Fatalf("checkpoint %d = %+v, %v; want the reader's tombstone", late, e, ok)
	}
	// The late writer now fails on its number, as on a primary key.
	if l.insert(entry{cp: late, id: 1}) {
		t.Fatal("late writer could still store at a claimed checkpoint")
	}
}

func TestReadSkipsHolesAtOrBelowFloor(t *testing.T) {
	l := newMemLog()
	l.counter.Store(100) // 1..100 purged
	l.write(1, 0, false)
	got := collect(t, l, 0, 100, 10)
	if len(got) != 1 || got[0].cp != 101 {
		t.Fatalf("read %+v, want only checkpoint 101", got)
	}
	if _, ok, _ := l.Get(context.Background(), 50); ok {
		t.Fatal("a hole below the floor was filled")
	}
}

func TestReadStopsEarly(t *testing.T) {
	l := newMemLog()
	for i := 1; i <= 10; i++ {
		l.write(i, 0, false)
	}
	n := 0
	for _, err := range Read(context.Background(), l, 0, 0, 3) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 4 {
			break
		}
	}
	if n != 4 {
		t.Fatalf("read %d, want 4", n)
	}
}

type failingLog struct{ memLog }

var errBoom = errors.New("boom")

func (f *failingLog) Fill(context.Context, int64) (bool, error) { return false, errBoom }

func TestReadYieldsFillError(t *testing.T) {
	f := &failingLog{memLog: *newMemLog()}
	f.write(1, 0, true)
	var got error
	for _, err := range Read[entry](context.Background(), f, 0, 0, 10) {
		got = err
	}
	if !errors.Is(got, errBoom) {
		t.Fatalf("err = %v, want boom", got)
	}
}

// TestPollingReaderSeesEveryCommitOnce races writers that stall between
// taking a number and storing, burn numbers, and a reader polling from the
// last checkpoint it saw.
func TestPollingReaderSeesEveryCommitOnce(t *testing.T) {
	l := newMemLog()
	const writers, perWriter = 8, 300
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				id := w*perWriter + i + 1
				stall := time.Duration(rand.IntN(200)) * time.Microsecond
				l.write(id, stall, rand.IntN(10) == 0)
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	seen := map[int]int{}
	var pos int64
	poll := func() {
		for e, err := range Read(context.Background(), l, pos, 0, 7) {
			if err != nil {
				t.Fatal(err)
			}
			if e.cp <= pos {
				t.Fatalf("checkpoint %d after %d", e.cp, pos)
			}
			pos = e.cp
			if e.id != 0 {
				seen[e.id]++
			}
		}
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		poll()
	}
	poll()
	for id := 1; id <= writers*perWriter; id++ {
		if seen[id] != 1 {
			t.Fatalf("commit %d seen %d times, want once (seen %d commits)", id, seen[id], len(seen))
		}
	}
}

// rangeLog is a memLog that claims runs of holes in one call
// (RangeFiller), as a bulk insert that goes on past taken keys does.
type rangeLog struct {
	*memLog
	ranges, fills atomic.Int64
	// landing, if set, is stored just before FillRange claims: a late
	// writer whose commit arrives in the middle of the run.
	landing *entry
}

func (l *rangeLog) Fill(ctx context.Context, cp int64) (bool, error) {
	l.fills.Add(1)
	return l.memLog.Fill(ctx, cp)
}

func (l *rangeLog) FillRange(_ context.Context, from, to int64) ([]bool, error) {
	l.ranges.Add(1)
	if l.landing != nil {
		l.insert(*l.landing)
		l.landing = nil
	}
	claimed := make([]bool, to-from)
	for cp := from; cp < to; cp++ {
		claimed[cp-from] = l.insert(entry{cp: cp})
	}
	return claimed, nil
}

func TestReadFillsRunsOfHolesAtOnce(t *testing.T) {
	l := &rangeLog{memLog: newMemLog()}
	l.write(1, 0, false) // cp 1
	// A writer left the numbers 2 to 2000 (a block, a jump); one of them,
	// 700, is a late commit that lands as the reader fills the run.
	l.counter.Store(2000)
	l.landing = &entry{cp: 700, id: 2}
	l.write(3, 0, false) // cp 2001
	got := collect(t, l, 0, 0, 100)
	var ids []int
	for _, e := range got {
		if e.id != 0 { // tombstones the rescan met are entries too
			ids = append(ids, e.id)
		}
	}
	if !slices.Equal(ids, []int{1, 2, 3}) {
		t.Fatalf("read %v, want commits [1 2 3]", ids)
	}
	for _, cp := range []int64{2, 699, 701, 1025, 2000} {
		if e, ok, _ := l.Get(context.Background(), cp); !ok || e.id != 0 {
			t.Fatalf("checkpoint %d = %+v, %v; want a tombstone", cp, e, ok)
		}
	}
	// 1,999 holes: two runs (maxFillRange 1,024); the late commit, which
	// the first run found taken, is read by one more scan, not a Fill.
	if r, f := l.ranges.Load(), l.fills.Load(); r != 2 || f != 0 {
		t.Fatalf("%d FillRange calls and %d Fill calls, want 2 and 0", r, f)
	}
}

// lyingRanges reports every hole of a run taken, and claims none: Page
// must not scan again forever, and settles the holes one by one in the
// end.
type lyingRanges struct{ *memLog }

func (l lyingRanges) FillRange(_ context.Context, from, to int64) ([]bool, error) {
	return make([]bool, to-from), nil
}

func TestReadRescansABoundedNumberOfTimes(t *testing.T) {
	l := lyingRanges{newMemLog()}
	l.write(1, 0, false)
	l.counter.Store(10)
	l.write(2, 0, false) // cp 11
	before := l.scans.Load()
	got := collect(t, l, 0, 0, 100)
	if len(got) != 2 || got[0].id != 1 || got[1].id != 2 {
		t.Fatalf("read %+v, want commits 1 and 2", got)
	}
	if n := l.scans.Load() - before; n > maxFillRounds+2 {
		t.Fatalf("%d scans for one page", n)
	}
	if e, ok, _ := l.Get(context.Background(), 5); !ok || e.id != 0 {
		t.Fatalf("hole 5 = %+v, %v; want a tombstone", e, ok)
	}
}
