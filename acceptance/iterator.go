package acceptance

import (
	"fmt"
	"iter"

	"github.com/goeventstore/eventstore/persistence"
)

var iteratorScenarios = []scenario{
	{"BreakEarly", breakEarly},
	{"RangeTwice", rangeTwice},
	{"CommitInsideRange", commitInsideRange},
}

// first ranges over seq and stops after n elements, failing on an error.
func first[T any](f *fixture, what string, seq iter.Seq2[T, error], n int) int {
	f.t.Helper()
	got := 0
	for _, err := range seq {
		if err != nil {
			f.t.Fatalf("%s: %v", what, err)
		}
		got++
		if got == n {
			break
		}
	}
	return got
}

// breakEarly: breaking out of a range, on the first element or just past a
// page boundary, releases whatever the read held: writes and complete reads
// still work afterwards.
func breakEarly(f *fixture) {
	n := 2*f.page + 1
	for i := range n {
		f.commitMany(bucketA, fmt.Sprintf("stream-%d", i), 1, 1)
	}
	cs := f.commitMany(bucketA, "long", n, 1)
	for _, stop := range []int{1, f.page + 1} {
		for name, seq := range map[string]iter.Seq2[persistence.Commit, error]{
			"ReadStream":   f.e.ReadStream(f.ctx, bucketA, "long", 0, 0),
			"ReadAll":      f.e.ReadAll(f.ctx, 0),
			"ReadBucket":   f.e.ReadBucket(f.ctx, bucketA, 0),
			"Undispatched": f.e.Undispatched(f.ctx),
		} {
			if got := first(f, name, seq, stop); got != stop {
				f.t.Errorf("%s yielded %d commits before the break, want %d", name, got, stop)
			}
		}
		if got := first(f, "StreamsToSnapshot", f.e.StreamsToSnapshot(f.ctx, bucketA, 0), stop); got != stop {
			f.t.Errorf("StreamsToSnapshot yielded %d heads before the break, want %d", got, stop)
		}
	}
	next := f.commit(f.attempt(bucketA, "long", n+1, n+1, 1))
	f.mark(cs[0])
	f.checkCommits("ReadStream after the breaks", f.readStream(bucketA, "long", 0, 0), append(cs, next))
	if got := len(f.readAll(0)); got != 2*n+1 {
		f.t.Errorf("ReadAll after the breaks yielded %d commits, want %d", got, 2*n+1)
	}
	if got := len(f.undispatched()); got != 2*n {
		f.t.Errorf("Undispatched after the breaks yielded %d commits, want %d", got, 2*n)
	}
}

// rangeTwice: each range over a read's sequence runs the read anew, so the
// second range sees what was committed in between.
func rangeTwice(f *fixture) {
	f.commitMany(bucketA, "s", 2, 1)
	stream := f.e.ReadStream(f.ctx, bucketA, "s", 0, 0)
	all := f.e.ReadAll(f.ctx, 0)
	bucket := f.e.ReadBucket(f.ctx, bucketA, 0)
	und := f.e.Undispatched(f.ctx)
	heads := f.e.StreamsToSnapshot(f.ctx, bucketA, 0)
	for round, want := range []int{2, 3} {
		if round == 1 {
			f.commit(f.attempt(bucketA, "s", 3, 3, 1))
		}
		for name, seq := range map[string]iter.Seq2[persistence.Commit, error]{
			"ReadStream": stream, "ReadAll": all, "ReadBucket": bucket, "Undispatched": und,
		} {
			if got := len(collect(f, name, seq)); got != want {
				f.t.Errorf("range %d over one %s sequence yielded %d commits, want %d", round+1, name, got, want)
			}
		}
		hs := collect(f, "StreamsToSnapshot", heads)
		if len(hs) != 1 || hs[0].HeadRevision != want {
			f.t.Errorf("range %d over one StreamsToSnapshot sequence yielded %+v, want head revision %d", round+1, hs, want)
		}
	}
}

// commitInsideRange: a loop body may write while ranging over a read (a
// projection that commits as it reads): no deadlock, and the commits that
// existed when the read began come first, in order, followed by at most
// some of the new ones, still in increasing checkpoint order.
func commitInsideRange(f *fixture) {
	n := 2*f.page + 1
	cs := f.commitMany(bucketA, "source", n, 1)
	var seen []persistence.Commit
	i := 0
	for c, err := range f.e.ReadAll(f.ctx, 0) {
		if err != nil {
			f.t.Fatalf("ReadAll: %v", err)
		}
		seen = append(seen, c)
		if c.StreamID == "source" {
			i++
			f.commit(f.attempt(bucketA, "derived", i, i, 1))
		}
		if len(seen) > 4*n {
			f.t.Fatalf("ReadAll keeps yielding: %d commits", len(seen))
		}
	}
	if len(seen) < n {
		f.t.Fatalf("ReadAll yielded %d commits, want at least the %d that existed", len(seen), n)
	}
	f.checkCommits("ReadAll, committing as it goes", seen[:n], cs)
	if !increasing(checkpoints(seen)) {
		f.t.Errorf("ReadAll, committing as it goes, yielded checkpoints %v", checkpoints(seen))
	}
	for _, c := range seen[n:] {
		if c.StreamID != "derived" {
			f.t.Errorf("ReadAll yielded an unexpected commit %s", summary([]persistence.Commit{c}))
		}
	}
	if got := len(f.readStream(bucketA, "derived", 0, 0)); got != i {
		f.t.Errorf("the derived stream holds %d commits, want %d", got, i)
	}
}
