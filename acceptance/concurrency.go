package acceptance

import (
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

var concurrencyScenarios = []scenario{
	{name: "RacingWritersOneStream", run: racingWriters},
	{name: "RacingRetries", run: racingRetries},
	{name: "PollingReadersMissNothing", run: pollingReaders},
}

// Bounds of the concurrent scenarios: modest, so that they stay quick on
// servers that take a few hundred writes a second.
const (
	racers       = 8               // goroutines racing for each sequence
	raceRounds   = 10              // sequences raced for
	pollWriters  = 8               // writers in pollingReaders
	pollCommits  = 250             // most commits per writer in pollingReaders
	pollDuration = 3 * time.Second // most time writers run in pollingReaders
)

// race runs Commit for every attempt at once and returns the results.
func (f *fixture) race(as []*persistence.CommitAttempt) ([]persistence.Commit, []error) {
	cs := make([]persistence.Commit, len(as))
	errs := make([]error, len(as))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, a := range as {
		wg.Go(func() {
			<-start
			cs[i], errs[i] = f.e.Commit(f.ctx, a)
		})
	}
	close(start)
	wg.Wait()
	return cs, errs
}

// racingWriters: eight writers race for each next sequence of one stream,
// each with a commit ID of its own. Exactly one wins each sequence; every
// loser gets ErrConcurrency naming the stream; the stream ends with each
// sequence once, no gaps, holding the winners.
func racingWriters(f *fixture) {
	const stream = "contended"
	var winners []persistence.Commit
	for seq := 1; seq <= raceRounds; seq++ {
		as := make([]*persistence.CommitAttempt, racers)
		for i := range as {
			as[i] = f.attempt(bucketA, stream, seq, seq, 1)
		}
		cs, errs := f.race(as)
		won := 0
		for i, err := range errs {
			if err == nil {
				won++
				winners = append(winners, cs[i])
				continue
			}
			f.expectStreamError(fmt.Sprintf("sequence %d, losing writer %d", seq, i), err, persistence.ErrConcurrency, bucketA, stream)
		}
		if won != 1 {
			f.t.Fatalf("sequence %d: %d of %d racing writers succeeded, want exactly 1", seq, won, racers)
		}
	}
	f.checkCommits("ReadStream after the races", f.readStream(bucketA, stream, 0, 0), winners)
	f.checkCommits("ReadAll after the races", f.readAll(0), winners)
	f.checkUndispatched("Undispatched after the races", winners)
}

// racingRetries: half the racers for a sequence carry the same commit ID (a
// client retrying while its first try is still in flight), the others IDs
// of their own. Exactly one wins. If it carries the shared ID, the other
// holders of that ID get ErrDuplicateCommit (it takes precedence) and the
// rest ErrConcurrency; otherwise all losers get ErrConcurrency.
func racingRetries(f *fixture) {
	const stream = "retried"
	var winners []persistence.Commit
	for seq := 1; seq <= raceRounds; seq++ {
		shared := persistence.NewUUID()
		as := make([]*persistence.CommitAttempt, racers)
		for i := range as {
			as[i] = f.attempt(bucketA, stream, seq, seq, 1)
			if i < racers/2 {
				as[i].CommitID = shared
			}
		}
		cs, errs := f.race(as)
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					f.t.Fatalf("sequence %d: writers %d and %d both succeeded", seq, winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			f.t.Fatalf("sequence %d: no racing writer succeeded: %v", seq, errs)
		}
		winners = append(winners, cs[winner])
		for i, err := range errs {
			if i == winner {
				continue
			}
			want := persistence.ErrConcurrency
			if as[i].CommitID == as[winner].CommitID {
				want = persistence.ErrDuplicateCommit
			}
			f.expectStreamError(fmt.Sprintf("sequence %d, losing writer %d (winner %d)", seq, i, winner), err, want, bucketA, stream)
		}
	}
	f.checkCommits("ReadStream after the races", f.readStream(bucketA, stream, 0, 0), winners)
	f.checkCommits("ReadAll after the races", f.readAll(0), winners)
}

// pollingReaders is the test of the late-visibility guarantee. Eight
// writers commit to streams of their own in two buckets, as fast as they
// can for a few seconds, each also making conflicting attempts that must
// fail (they burn checkpoints in engines that number before they insert).
// Meanwhile one reader polls ReadAll and another ReadBucket, each from the
// last checkpoint it saw, with no pause. Every acknowledged commit must
// reach each reader exactly once, with the checkpoint Commit returned, in
// strictly increasing order; no failed attempt may ever appear.
func pollingReaders(f *fixture) {
	deadline := time.Now().Add(pollDuration)
	acked := make([][]persistence.Commit, pollWriters)
	failed := make([][]persistence.UUID, pollWriters)
	werrs := make([]error, pollWriters)
	var done atomic.Bool
	var writers sync.WaitGroup
	for w := range pollWriters {
		writers.Go(func() {
			bucket := bucketA
			if w%2 == 1 {
				bucket = bucketB
			}
			for i := 0; i < pollCommits && time.Now().Before(deadline); i++ {
				stream := fmt.Sprintf("writer-%d-stream-%d", w, i%3)
				seq := i/3 + 1
				c, err := f.e.Commit(f.ctx, f.attempt(bucket, stream, seq, seq, 1))
				if err != nil {
					werrs[w] = fmt.Errorf("writer %d: Commit(%q, sequence %d): %w", w, stream, seq, err)
					return
				}
				acked[w] = append(acked[w], c)
				if i%4 == 3 {
					bad := f.attempt(bucket, stream, seq, seq, 1)
					if _, err := f.e.Commit(f.ctx, bad); !errors.Is(err, persistence.ErrConcurrency) {
						werrs[w] = fmt.Errorf("writer %d: a conflicting Commit(%q, sequence %d) returned %v, want ErrConcurrency", w, stream, seq, err)
						return
					}
					failed[w] = append(failed[w], bad.CommitID)
				}
			}
		})
	}

	// poll reads from the last checkpoint seen until the writers are done,
	// then once more.
	poll := func(read func(after int64) iter.Seq2[persistence.Commit, error]) ([]persistence.Commit, error) {
		var seen []persistence.Commit
		var last int64
		for {
			finished := done.Load() // set before this poll began: it sees every acknowledged commit
			for c, err := range read(last) {
				if err != nil {
					return seen, err
				}
				if c.Checkpoint <= last {
					return seen, fmt.Errorf("checkpoint %d (stream %q, sequence %d) yielded after checkpoint %d", c.Checkpoint, c.StreamID, c.CommitSequence, last)
				}
				last = c.Checkpoint
				seen = append(seen, c)
			}
			if finished {
				return seen, nil
			}
		}
	}
	var readers sync.WaitGroup
	var all, inB []persistence.Commit
	var allErr, bErr error
	readers.Go(func() {
		all, allErr = poll(func(after int64) iter.Seq2[persistence.Commit, error] { return f.e.ReadAll(f.ctx, after) })
	})
	readers.Go(func() {
		inB, bErr = poll(func(after int64) iter.Seq2[persistence.Commit, error] { return f.e.ReadBucket(f.ctx, bucketB, after) })
	})
	writers.Wait()
	done.Store(true)
	readers.Wait()

	for _, err := range werrs {
		if err != nil {
			f.t.Error(err)
		}
	}
	if allErr != nil {
		f.t.Errorf("ReadAll poller: %v", allErr)
	}
	if bErr != nil {
		f.t.Errorf("ReadBucket poller: %v", bErr)
	}
	var want, wantB []persistence.Commit
	for w := range pollWriters {
		want = append(want, acked[w]...)
		if w%2 == 1 {
			wantB = append(wantB, acked[w]...)
		}
	}
	bad := map[persistence.UUID]bool{}
	for _, ids := range failed {
		for _, id := range ids {
			bad[id] = true
		}
	}
	f.t.Logf("%d writers acknowledged %d commits (%d failed attempts); the ReadAll poller saw %d, the ReadBucket poller %d",
		pollWriters, len(want), len(bad), len(all), len(inB))
	f.checkSeen("ReadAll poller", all, want, bad)
	f.checkSeen("ReadBucket poller", inB, wantB, bad)
	f.checkSeen("ReadAll(0) afterwards", f.readAll(0), want, bad)
}

// checkSeen fails unless seen holds every commit of want exactly once, with
// its checkpoint, and nothing else.
func (f *fixture) checkSeen(what string, seen, want []persistence.Commit, failed map[persistence.UUID]bool) {
	f.t.Helper()
	byID := make(map[persistence.UUID]persistence.Commit, len(want))
	for _, c := range want {
		byID[c.CommitID] = c
	}
	got := make(map[persistence.UUID]int, len(seen))
	errs := 0
	report := func(format string, args ...any) {
		if errs++; errs <= 10 {
			f.t.Errorf(what+": "+format, args...)
		}
	}
	for _, c := range seen {
		got[c.CommitID]++
		w, ok := byID[c.CommitID]
		switch {
		case failed[c.CommitID]:
			report("yielded a commit whose Commit failed: %s", summary([]persistence.Commit{c}))
		case !ok:
			report("yielded a commit nobody acknowledged: %s", summary([]persistence.Commit{c}))
		case got[c.CommitID] > 1:
			report("yielded %s more than once", summary([]persistence.Commit{c}))
		default:
			if d := sameCommit(c, w); d != "" {
				report("%s", d)
			}
		}
	}
	missed := 0
	for _, c := range want {
		if got[c.CommitID] == 0 {
			if missed++; missed <= 5 {
				report("missed %s", summary([]persistence.Commit{c}))
			}
		}
	}
	if missed > 0 {
		f.t.Errorf("%s: missed %d of %d acknowledged commits", what, missed, len(want))
	}
}
