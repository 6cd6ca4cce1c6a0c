package acceptance

import (
	"fmt"
	"sync"

	"github.com/goeventstore/eventstore/persistence"
)

// The wake-up on local commits (Engine.Committed) is done by the portable
// layer for every engine; these scenarios hold each engine's Commit to what
// a woken reader relies on: the commit is readable when the channel closes.
var wakeScenarios = []scenario{
	{name: "OnCommit", run: wakeOnCommit},
	{name: "NotOnFailure", run: wakeNotOnFailure},
	{name: "ConcurrentWriters", run: wakeConcurrentWriters},
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// wakeOnCommit: a channel taken before a commit is closed once Commit
// returns, and a reader woken by it reads the commit; a channel taken after
// it waits for the next commit.
func wakeOnCommit(f *fixture) {
	woken := f.e.Committed()
	if closed(woken) {
		f.t.Fatal("Committed: the channel is closed before any commit")
	}
	c := f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	if !closed(woken) {
		f.t.Fatal("Committed: the channel taken before a commit is still open after Commit returned")
	}
	f.checkCommits("ReadAll(0) after the wake-up", f.readAll(0), []persistence.Commit{c})
	next := f.e.Committed()
	if closed(next) {
		f.t.Fatal("Committed: a channel taken after the commit is already closed")
	}
	c2 := f.commit(f.attempt(bucketB, "s", 1, 1, 1))
	if !closed(next) {
		f.t.Fatal("Committed: the second channel is still open after the second Commit returned")
	}
	f.checkCommits("ReadAll(c1) after the second wake-up", f.readAll(c.Checkpoint), []persistence.Commit{c2})
}

// wakeNotOnFailure: a Commit that fails (a conflict, a duplicate) does not
// wake readers: nothing new is there to read.
func wakeNotOnFailure(f *fixture) {
	f.commit(f.attempt(bucketA, "s", 1, 1, 1))
	woken := f.e.Committed()
	_, err := f.e.Commit(f.ctx, f.attempt(bucketA, "s", 1, 1, 1))
	f.expectError("a conflicting Commit", err, persistence.ErrConcurrency)
	if closed(woken) {
		f.t.Error("Committed: a failed Commit closed the channel")
	}
}

// wakeConcurrentWriters: with several writers committing at once, a reader
// that reads again from its position each time it is woken (taking the
// channel before reading) reads every commit, without polling.
func wakeConcurrentWriters(f *fixture) {
	const writers, each = 4, 5
	want := writers * each
	seen := map[int64]bool{}
	var after int64
	read := func() {
		for c, err := range f.e.ReadAll(f.ctx, after) {
			if err != nil {
				f.t.Fatal(f.explain("ReadAll", err))
			}
			seen[c.Checkpoint] = true
			after = c.Checkpoint
		}
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	woken := f.e.Committed()
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := f.e.Commit(f.ctx, f.attempt(bucketA, fmt.Sprintf("w%d", w), i+1, i+1, 1)); err != nil {
					f.t.Error(f.explain(fmt.Sprintf("Commit of writer %d, sequence %d", w, i+1), err))
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	for len(seen) < want {
		select {
		case <-woken:
		case <-done:
		case <-f.ctx.Done():
			f.t.Fatalf("read %d of %d commits before the scenario's deadline", len(seen), want)
		}
		if f.t.Failed() {
			<-done
			return
		}
		woken = f.e.Committed()
		read()
		if len(seen) < want && closed(done) && !closed(woken) {
			f.t.Fatalf("every writer returned, the reader was woken and read again, and it saw %d of %d commits", len(seen), want)
		}
	}
	// A commit is visible before its Commit returns: let the writers finish
	// before the scenario (and its context) ends.
	<-done
}
