package mongo

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/goeventstore/eventstore/persistence"
)

// readAll collects ReadAll(after) as checkpoints.
func readAll(t *testing.T, e *persistence.Engine, after int64) []int64 {
	t.Helper()
	var cps []int64
	for c, err := range e.ReadAll(context.Background(), after) {
		if err != nil {
			t.Fatal(err)
		}
		cps = append(cps, c.Checkpoint)
	}
	return cps
}

// A checkpoint taken by a writer that has not inserted yet is a hole; the
// reader fills it, and the writer then lands above everything read.
func TestLateWriterLandsAboveReader(t *testing.T) { eachServer(t, testLateWriterLandsAboveReader) }

func testLateWriterLandsAboveReader(t *testing.T) {
	ctx := context.Background()
	e, d := openEngine(t, isolatedURL(t))
	if _, err := e.Commit(ctx, attempt("b", "s1", 1)); err != nil {
		t.Fatal(err)
	}
	// A slow writer takes the next number and stalls before its insert.
	held, err := d.nextCheckpoint(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	c3, err := e.Commit(ctx, attempt("b", "s2", 1))
	if err != nil {
		t.Fatal(err)
	}
	if c3.Checkpoint != held+1 {
		t.Fatalf("second commit got checkpoint %d, want %d", c3.Checkpoint, held+1)
	}
	got := readAll(t, e, 0)
	if fmt.Sprint(got) != fmt.Sprint([]int64{held - 1, held + 1}) {
		t.Fatalf("ReadAll = %v", got)
	}
	// The reader claimed the hole.
	var doc commitDoc
	if err := d.commits.FindOne(ctx, bson.D{{Key: fID, Value: held}}).Decode(&doc); err != nil || !doc.Tombstone {
		t.Fatalf("hole %d not filled with a tombstone: %+v, %v", held, doc, err)
	}
	// The stalled writer now tries its number: it must be refused and
	// retried above the reader's position.
	d.cps.last.Store(held - 1)
	c, err := e.Commit(ctx, attempt("b", "s3", 1))
	if err != nil {
		t.Fatal(err)
	}
	if c.Checkpoint <= c3.Checkpoint {
		t.Fatalf("late commit got checkpoint %d, at or below %d already read", c.Checkpoint, c3.Checkpoint)
	}
	if got := readAll(t, e, c3.Checkpoint); fmt.Sprint(got) != fmt.Sprint([]int64{c.Checkpoint}) {
		t.Fatalf("ReadAll after %d = %v, want [%d]", c3.Checkpoint, got, c.Checkpoint)
	}
	// Tombstones are never dispatched.
	n := 0
	for c, err := range e.Undispatched(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if c.StreamID == "" {
			t.Fatalf("Undispatched yielded a tombstone at %d", c.Checkpoint)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("Undispatched yielded %d commits, want 3", n)
	}
}

// Two engines on one database behave like two processes: their hints go
// stale, collide on _id, and recover; every commit is read once, in order.
func TestTwoProcessesShareNumbering(t *testing.T) { eachServer(t, testTwoProcessesShareNumbering) }

func testTwoProcessesShareNumbering(t *testing.T) {
	ctx := context.Background()
	url := isolatedURL(t)
	e0, _ := openEngine(t, url)
	e1, _ := openEngine(t, url)
	engines := []*persistence.Engine{e0, e1}
	const perWriter = 40
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			e := engines[w%2]
			for i := 1; i <= perWriter; i++ {
				if _, err := e.Commit(ctx, attempt("b", fmt.Sprint("w", w), i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// A reader polls while they write.
	seen := map[int64]bool{}
	var last int64
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	poll := func() {
		for c, err := range engines[0].ReadAll(ctx, last) {
			if err != nil {
				t.Fatal(err)
			}
			if c.Checkpoint <= last || seen[c.Checkpoint] {
				t.Fatalf("checkpoint %d after %d", c.Checkpoint, last)
			}
			seen[c.Checkpoint], last = true, c.Checkpoint
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		poll()
	}
	poll()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != 4*perWriter {
		t.Fatalf("reader saw %d commits, want %d", len(seen), 4*perWriter)
	}
	// A fresh reader sees the same.
	if got := readAll(t, engines[1], 0); len(got) != 4*perWriter {
		t.Fatalf("second reader saw %d commits", len(got))
	}
}

// Purge keeps numbering above the floor, and readers do not fill the purged
// range.
func TestPurgeFloor(t *testing.T) { eachServer(t, testPurgeFloor) }

func testPurgeFloor(t *testing.T) {
	ctx := context.Background()
	url := isolatedURL(t)
	e, d := openEngine(t, url)
	var top int64
	for i := 1; i <= 5; i++ {
		c, err := e.Commit(ctx, attempt("b", "s", i))
		if err != nil {
			t.Fatal(err)
		}
		top = c.Checkpoint
	}
	if err := e.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, e, 0); len(got) != 0 {
		t.Fatalf("ReadAll after Purge = %v", got)
	}
	c, err := e.Commit(ctx, attempt("b", "s", 1))
	if err != nil {
		t.Fatal(err)
	}
	if c.Checkpoint <= top {
		t.Fatalf("checkpoint %d reused after Purge (top was %d)", c.Checkpoint, top)
	}
	if got := readAll(t, e, 0); fmt.Sprint(got) != fmt.Sprint([]int64{c.Checkpoint}) {
		t.Fatalf("ReadAll = %v", got)
	}
	n, err := d.commits.CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 { // the floor tombstone and the new commit: no filled holes
		t.Fatalf("%d documents after Purge and one commit, want 2", n)
	}
	// Another process starts above it too.
	e2, _ := openEngine(t, url)
	c2, err := e2.Commit(ctx, attempt("b", "s", 2))
	if err != nil {
		t.Fatal(err)
	}
	if c2.Checkpoint != c.Checkpoint+1 {
		t.Fatalf("second process got checkpoint %d, want %d", c2.Checkpoint, c.Checkpoint+1)
	}
}

// DeleteStream leaves tombstones, so the numbers are not reused and readers
// find no holes to fill.
func TestDeleteStreamLeavesTombstones(t *testing.T) { eachServer(t, testDeleteStreamLeavesTombstones) }

func testDeleteStreamLeavesTombstones(t *testing.T) {
	ctx := context.Background()
	url := isolatedURL(t)
	e, d := openEngine(t, url)
	for i := 1; i <= 4; i++ {
		if _, err := e.Commit(ctx, attempt("b", "gone", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.DeleteStream(ctx, "b", "gone"); err != nil {
		t.Fatal(err)
	}
	n, err := d.commits.CountDocuments(ctx, bson.D{{Key: fTombstone, Value: true}})
	if err != nil || n != 4 {
		t.Fatalf("%d tombstones after DeleteStream, want 4 (%v)", n, err)
	}
	// A fresh engine (no hint in memory) continues above them.
	e2, _ := openEngine(t, url)
	c, err := e2.Commit(ctx, attempt("b", "gone", 1))
	if err != nil {
		t.Fatal(err)
	}
	if c.Checkpoint != 5 {
		t.Fatalf("commit after DeleteStream got checkpoint %d, want 5", c.Checkpoint)
	}
	if got := readAll(t, e2, 0); fmt.Sprint(got) != "[5]" {
		t.Fatalf("ReadAll = %v", got)
	}
}

// ReadBucket settles holes over the whole log and reads only its bucket's
// commits, across page boundaries.
func TestReadBucketAcrossPagesAndHoles(t *testing.T) {
	eachServer(t, testReadBucketAcrossPagesAndHoles)
}

func testReadBucketAcrossPagesAndHoles(t *testing.T) {
	ctx := context.Background()
	e, d := openEngine(t, isolatedURL(t), persistence.WithPageSize(2))
	want := map[string][]int64{}
	for i := 1; i <= 9; i++ {
		bucket := []string{"a", "b", "b"}[i%3]
		if i%4 == 0 {
			d.cps.last.Add(1) // burn a checkpoint: a hole readers must fill
		}
		c, err := e.Commit(ctx, attempt(bucket, "s", len(want[bucket])+1))
		if err != nil {
			t.Fatal(err)
		}
		want[bucket] = append(want[bucket], c.Checkpoint)
	}
	for _, bucket := range []string{"a", "b"} {
		for _, after := range []int64{0, want[bucket][1]} {
			var got []int64
			for c, err := range e.ReadBucket(ctx, bucket, after) {
				if err != nil {
					t.Fatal(err)
				}
				if c.BucketID != bucket {
					t.Fatalf("ReadBucket(%q) yielded a commit of bucket %q", bucket, c.BucketID)
				}
				got = append(got, c.Checkpoint)
			}
			var exp []int64
			for _, cp := range want[bucket] {
				if cp > after {
					exp = append(exp, cp)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(exp) {
				t.Errorf("ReadBucket(%q, %d) = %v, want %v", bucket, after, got, exp)
			}
		}
	}
}

// A writer whose number a reader filled (a tombstone) takes the next number
// of its hint: in a process alone that number is free, and no number is
// skipped that readers would have to fill. A second collision of the same
// commit means another process is ahead: the writer jumps past it.
func TestCollisionSkips(t *testing.T) { eachServer(t, testCollisionSkips) }

func testCollisionSkips(t *testing.T) {
	ctx := context.Background()
	e, d := openEngine(t, isolatedURL(t))
	if _, err := e.Commit(ctx, attempt("b", "s1", 1)); err != nil {
		t.Fatal(err)
	}
	held, err := d.nextCheckpoint(ctx, 0) // a writer stalls with this number
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.Commit(ctx, attempt("b", "s2", 1))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, e, 0) // fills held
	// The stalled writer's insert at held fails: its next number follows c.
	if err := d.skipCheckpoint(ctx, held, 1); err != nil {
		t.Fatal(err)
	}
	c2, err := e.Commit(ctx, attempt("b", "s3", 1))
	if err != nil {
		t.Fatal(err)
	}
	if c2.Checkpoint != c.Checkpoint+1 {
		t.Fatalf("after a collision with a reader, checkpoint %d, want %d", c2.Checkpoint, c.Checkpoint+1)
	}
	// Its second collision: the number it lost was taken by another
	// process, whose writers hold the next ones too. The engine claims the
	// next block: a tombstone at its first number, then the others.
	x := c2.Checkpoint + 1
	if err := d.skipCheckpoint(ctx, x, 2); err != nil {
		t.Fatal(err)
	}
	lo := (x/blockSize + 1) * blockSize
	for i := int64(1); i <= 2; i++ {
		if next, err := d.nextCheckpoint(ctx, 0); err != nil || next != lo+i {
			t.Fatalf("after a second collision at %d, checkpoint %d (%v), want %d", x, next, err, lo+i)
		}
	}
	var claim commitDoc
	if err := d.commits.FindOne(ctx, bson.D{{Key: fID, Value: lo}}).Decode(&claim); err != nil || !claim.Tombstone {
		t.Fatalf("no claim at %d: %+v, %v", lo, claim, err)
	}
	// A commit whose predecessor is at or above the block's next number
	// gets a number from a block above it; the numbers left below are used
	// first by the commits that follow.
	if next, err := d.nextCheckpoint(ctx, lo+blockSize+5); err != nil || next != lo+2*blockSize+1 {
		t.Fatalf("above a predecessor at %d: checkpoint %d (%v), want %d", lo+blockSize+5, next, err, lo+2*blockSize+1)
	}
	if next, err := d.nextCheckpoint(ctx, 0); err != nil || next != lo+3 {
		t.Fatalf("after a commit above the block: checkpoint %d (%v), want %d, left in the block below", next, err, lo+3)
	}
	// A collision in a block (a reader filled the number): the block is
	// left.
	if err := d.skipCheckpoint(ctx, lo+4, 1); err != nil {
		t.Fatal(err)
	}
	lo += 2 * blockSize
	if next, err := d.nextCheckpoint(ctx, 0); err != nil || next != lo+2 {
		t.Fatalf("after a collision in the block below: checkpoint %d (%v), want %d", next, err, lo+2)
	}
	if err := d.skipCheckpoint(ctx, lo+3, 1); err != nil {
		t.Fatal(err)
	}
	if next, err := d.nextCheckpoint(ctx, 0); err != nil || next != lo+blockSize+1 {
		t.Fatalf("after a collision in the block at %d: checkpoint %d (%v), want %d", lo+3, next, err, lo+blockSize+1)
	}
	lo += blockSize
	// Another engine took the next block: the claim goes to the one after.
	if _, err := d.commits.InsertOne(ctx, tombstone(lo+blockSize)); err != nil {
		t.Fatal(err)
	}
	d.cps.leaveBlock()
	if next, err := d.nextCheckpoint(ctx, 0); err != nil || next != lo+2*blockSize+1 {
		t.Fatalf("after a lost claim: checkpoint %d (%v), want %d", next, err, lo+2*blockSize+1)
	}
	if n := d.cps.lostClaims.Load(); n != 1 {
		t.Fatalf("%d claims lost, want 1", n)
	}
	lo += 2 * blockSize
	// Half way through the block, the next is claimed ahead: the numbers
	// go on there once the block is used up.
	for want := lo + 2; want < lo+blockSize; want++ {
		if next, err := d.nextCheckpoint(ctx, 0); err != nil || next != want {
			t.Fatalf("checkpoint %d (%v), want %d", next, err, want)
		}
	}
	if next, err := d.nextCheckpoint(ctx, 0); err != nil || next != lo+blockSize+1 {
		t.Fatalf("after the block: checkpoint %d (%v), want %d in the block claimed ahead", next, err, lo+blockSize+1)
	}
	// Readers skip claims: every commit, and nothing else.
	if got := readAll(t, e, 0); len(got) != 3 {
		t.Fatalf("ReadAll = %v, want the 3 commits", got)
	}
	// Calm for calmFor: the engine numbers from its hint again once its
	// block is used up, above it.
	d.cps.met.Store(time.Now().Add(-calmFor - time.Second).UnixNano())
	d.cps.leaveBlock()
	hint := d.cps.last.Load()
	if next, err := d.nextCheckpoint(ctx, 0); err != nil || next != hint+1 || d.cps.blocks.Load() {
		t.Fatalf("calm: checkpoint %d (%v, blocks %v), want %d from the hint", next, err, d.cps.blocks.Load(), hint+1)
	}
	// From the loadCollisions-th collision on it continues above the
	// greatest stored.
	d.cps.last.Store(0)
	d.cps.leaveBlock()
	if err := d.skipCheckpoint(ctx, 1, loadCollisions); err != nil {
		t.Fatal(err)
	}
	if next, err := d.nextCheckpoint(ctx, 0); err != nil || next <= hint {
		t.Fatalf("after %d collisions, checkpoint %d (%v), want above %d", loadCollisions, next, err, hint)
	}
}

// A reader fills a run of holes (the rest of a block its engine left, say)
// with one unordered insert, not one insert per hole.
func TestReaderFillsARunOfHolesAtOnce(t *testing.T) { eachServer(t, testReaderFillsARunOfHolesAtOnce) }

func testReaderFillsARunOfHolesAtOnce(t *testing.T) {
	ctx := context.Background()
	url := isolatedURL(t)
	e, d := openEngine(t, url)
	var want []int64
	for i, before := range []int64{0, 149, 301} { // commits at 1, 150 and 302
		d.cps.last.Store(before)
		c, err := e.Commit(ctx, attempt("b", fmt.Sprint("s", i), 1))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, c.Checkpoint)
	}
	if fmt.Sprint(want) != "[1 150 302]" {
		t.Fatalf("commits at %v", want)
	}
	reader, log := monitoredEngine(t, url)
	if got := readAll(t, reader, 0); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ReadAll = %v, want %v", got, want)
	}
	if n := countOf(log.take(), "insert"); n != 2 {
		t.Errorf("the reader sent %d inserts for two runs of holes, want 2", n)
	}
	for _, cp := range []int64{2, 149, 151, 301} {
		var doc commitDoc
		if err := d.commits.FindOne(ctx, bson.D{{Key: fID, Value: cp}}).Decode(&doc); err != nil || !doc.Tombstone {
			t.Errorf("hole %d: %+v, %v; want a tombstone", cp, doc, err)
		}
	}
	// A run with numbers taken in it (a late commit, another reader's
	// tombstone): the insert goes on past them and reports them.
	claimed, err := (&commitLog{e: d}).FillRange(ctx, 148, 153)
	if err != nil || fmt.Sprint(claimed) != "[false false false false false]" {
		t.Fatalf("FillRange over filled holes and a commit: %v, %v", claimed, err)
	}
	if claimed, err = (&commitLog{e: d}).FillRange(ctx, 301, 305); err != nil || fmt.Sprint(claimed) != "[false false true true]" {
		t.Fatalf("FillRange over a tombstone, a commit and two free numbers: %v, %v", claimed, err)
	}
	// A second reader finds the runs filled: no insert.
	if got := readAll(t, reader, 0); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ReadAll again = %v, want %v", got, want)
	}
	if n := countOf(log.take(), "insert"); n != 0 {
		t.Errorf("reading again sent %d inserts", n)
	}
}

// A reader that meets holes in a block claimed less than holdFor ago waits
// for its engine to number its commits there, rather than fill the block
// and push the engine out of it.
func TestReaderWaitsForAYoungBlock(t *testing.T) { eachServer(t, testReaderWaitsForAYoungBlock) }

func testReaderWaitsForAYoungBlock(t *testing.T) {
	ctx := context.Background()
	url := isolatedURL(t)
	e1, d1 := openEngine(t, url)
	e2, d2 := openEngine(t, url)
	for _, d := range []*engine{d1, d2} {
		if err := d.loadCheckpoint(ctx, 0, false); err != nil {
			t.Fatal(err)
		}
		d.cps.blocks.Store(true) // as after meeting another process
		d.cps.met.Store(time.Now().UnixNano())
	}
	c1, err := e1.Commit(ctx, attempt("b", "s1", 1))
	if err != nil {
		t.Fatal(err)
	}
	c2, err := e2.Commit(ctx, attempt("b", "s2", 1)) // in a block above e1's
	if err != nil {
		t.Fatal(err)
	}
	if c1.Checkpoint%blockSize != 1 || c2.Checkpoint < c1.Checkpoint+blockSize {
		t.Fatalf("commits at %d and %d, want the first numbers of two blocks", c1.Checkpoint, c2.Checkpoint)
	}
	// A long hold (and an operation timeout that lets it be), so that
	// e1's commits below land within it even on a loaded machine.
	reader, dr := openEngine(t, url, persistence.WithTimeout(time.Minute))
	dr.hold = 5 * time.Second
	read := make(chan []int64)
	go func() {
		defer close(read)
		var cps []int64
		for c, err := range reader.ReadAll(ctx, 0) {
			if err != nil {
				t.Error(err)
				return
			}
			cps = append(cps, c.Checkpoint)
		}
		read <- cps
	}()
	// e1 goes on numbering in its block while the reader waits.
	time.Sleep(100 * time.Millisecond)
	want := []int64{c1.Checkpoint}
	for i := 2; i <= 5; i++ {
		c, err := e1.Commit(ctx, attempt("b", "s1", i))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, c.Checkpoint)
	}
	want = append(want, c2.Checkpoint)
	got := <-read
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ReadAll = %v, want %v", got, want)
	}
	if want[4] != c1.Checkpoint+4 || d1.cps.collisions.Load() != 0 {
		t.Fatalf("e1's commits at %v with %d collisions: the reader pushed it out of its block", want[:5], d1.cps.collisions.Load())
	}
	// The block is old now: the rest of it was filled.
	var doc commitDoc
	if err := d1.commits.FindOne(ctx, bson.D{{Key: fID, Value: want[4] + 1}}).Decode(&doc); err != nil || !doc.Tombstone {
		t.Fatalf("after the hold, %d: %+v, %v; want a tombstone", want[4]+1, doc, err)
	}
}

// Writers of one engine that need the greatest _id stored at once (an
// engine that idled while others wrote collides on every writer's next
// insert) cost one load, not one each: a load that ended while a caller
// waited for it serves that caller too.
func TestConcurrentLoadsShareOne(t *testing.T) { eachServer(t, testConcurrentLoadsShareOne) }

func testConcurrentLoadsShareOne(t *testing.T) {
	ctx := context.Background()
	url := isolatedURL(t)
	e, d := openEngine(t, url)
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
		t.Fatal(err)
	}
	before := d.cps.loads.Load()
	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	d.cps.mu.Lock() // a load in progress: every caller reads the count of loads, then waits
	for range callers {
		wg.Go(func() { errs <- d.loadCheckpoint(ctx, 0, true) })
	}
	time.Sleep(200 * time.Millisecond)
	d.cps.loads.Add(1) // the load in progress ends
	d.cps.mu.Unlock()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := d.cps.loads.Load() - before - 1; n != 0 {
		t.Errorf("%d callers waiting for a load made %d more loads, want none", callers, n)
	}
	// A caller that asks after the last load ended loads again.
	if err := d.loadCheckpoint(ctx, 0, true); err != nil {
		t.Fatal(err)
	}
	if n := d.cps.loads.Load() - before - 1; n != 1 {
		t.Errorf("a load asked for after the last one ended: %d loads, want 1", n)
	}
}
