package acceptance

import (
	"fmt"
	"iter"

	"github.com/goeventstore/eventstore/persistence"
)

var iteratorScenarios = []scenario{
	{name: "BreakEarly", run: breakEarly},
	{name: "RangeTwice", run: rangeTwice},
}

// first ranges over seq and stops after n elements, failing on an error.
func first[T any](f *fixture, what string, seq iter.Seq2[T, error], n int) int {
	f.t.Helper()
	f.await(what)
	got := 0
	for _, err := range seq {
		if err != nil {
			f.t.Fatal(f.explain(what, err))
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
		for name, seq := range f.reads(bucketA, "long") {
			if got := first(f, name, seq, stop); got != stop {
				f.t.Errorf("%s yielded %d commits before the break, want %d", name, got, stop)
			}
		}
		if f.can(persistence.Snapshots) {
			if got := first(f, "StreamsToSnapshot", f.e.StreamsToSnapshot(f.ctx, bucketA, 1), stop); got != stop {
				f.t.Errorf("StreamsToSnapshot yielded %d heads before the break, want %d", got, stop)
			}
		}
	}
	next := f.commit(f.attempt(bucketA, "long", n+1, n+1, 1))
	f.checkCommits("ReadStream after the breaks", f.readStream(bucketA, "long", 0, 0), append(cs, next))
	if got := len(f.readAll(0)); got != 2*n+1 {
		f.t.Errorf("ReadAll after the breaks yielded %d commits, want %d", got, 2*n+1)
	}
	if f.can(persistence.Dispatch) {
		f.mark(cs[0])
		if got := len(f.undispatched()); got != 2*n {
			f.t.Errorf("Undispatched after the breaks yielded %d commits, want %d", got, 2*n)
		}
	}
}

// reads returns the engine's reads of commits, by name: ReadStream of
// stream, ReadAll, ReadBucket of bucket, and Undispatched if the engine has
// the Dispatch capability.
func (f *fixture) reads(bucket, stream string) map[string]iter.Seq2[persistence.Commit, error] {
	m := map[string]iter.Seq2[persistence.Commit, error]{
		"ReadStream": f.e.ReadStream(f.ctx, bucket, stream, 0, 0),
		"ReadAll":    f.e.ReadAll(f.ctx, 0),
		"ReadBucket": f.e.ReadBucket(f.ctx, bucket, 0),
	}
	if f.can(persistence.Dispatch) {
		m["Undispatched"] = f.e.Undispatched(f.ctx)
	}
	return m
}

// rangeTwice: each range over a read's sequence runs the read anew, so the
// second range sees what was committed in between.
func rangeTwice(f *fixture) {
	f.commitMany(bucketA, "s", 2, 1)
	reads := f.reads(bucketA, "s")
	heads := f.e.StreamsToSnapshot(f.ctx, bucketA, 1)
	for round, want := range []int{2, 3} {
		if round == 1 {
			f.commit(f.attempt(bucketA, "s", 3, 3, 1))
		}
		for name, seq := range reads {
			if got := len(collect(f, name, seq)); got != want {
				f.t.Errorf("range %d over one %s sequence yielded %d commits, want %d", round+1, name, got, want)
			}
		}
		if !f.can(persistence.Snapshots) {
			continue
		}
		hs := collect(f, "StreamsToSnapshot", heads)
		if len(hs) != 1 || hs[0].HeadRevision != want {
			f.t.Errorf("range %d over one StreamsToSnapshot sequence yielded %+v, want head revision %d", round+1, hs, want)
		}
	}
}
