package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// BenchmarkCopy compares, in one run, copying 2,000 commits from a source
// server (MySQL on MariaDB, Mongo on FerretDB) into a fresh database of
// each target engine with the target's plain commit throughput, with the
// same single writer. Each iteration runs every variant once, in turn, so
// that they share the machine's load:
//
//   - commit: the same commits written with Engine.Commit, one after the
//     other (the ceiling);
//   - copy: eventstore copy -q; half the source is dispatched, so 1,000
//     commits are also marked dispatched in the target (in batches, by the
//     markers beside the writer);
//   - redispatch: eventstore copy -q --redispatch: no marks;
//   - progress: copy with progress lines on stderr (every 100ms, 20 times
//     the default).
//
// It reports each variant's commits/s and copy/commit, redispatch/commit
// and progress/copy as ratios, and the CPU time this process (the command,
// not the servers) spent per copied commit (copy-cpu-us/commit).
//
//	go test -run '^$' -bench BenchmarkCopy$ -benchtime 1x ./cmd/eventstore/
func BenchmarkCopy(b *testing.B) {
	ctx := context.Background()
	// The commits: written to MariaDB by a program's store, the first half
	// marked dispatched. The FerretDB source gets the same commits with
	// Engine.Commit (seeding through a store reads each stream first, which
	// costs a collection scan per commit on FerretDB).
	seeded := openURL(b, testserver.Get(b, testserver.MariaDB).Isolated(b))
	seedServer(b, seeded, 40, 50)
	var commits []persistence.Commit
	for c, err := range seeded.ReadAll(ctx, 0) {
		if err != nil {
			b.Fatal(err)
		}
		commits = append(commits, c)
	}
	for _, from := range []string{testserver.MariaDB, testserver.Mongo} {
		b.Run("from-"+from, func(b *testing.B) {
			srcURL := testserver.Get(b, from).Isolated(b)
			src := openURL(b, srcURL)
			var first []persistence.Commit
			for i := range commits {
				a := commits[i].CommitAttempt
				c, err := src.Commit(ctx, &a)
				if err != nil {
					b.Fatal(err)
				}
				if i < len(commits)/2 {
					first = append(first, c)
				}
			}
			if err := src.MarkDispatchedBatch(ctx, first); err != nil {
				b.Fatal(err)
			}
			benchCopyFrom(b, srcURL, commits)
		})
	}
}

func benchCopyFrom(b *testing.B, srcURL string, commits []persistence.Commit) {
	ctx := context.Background()
	for _, kind := range []string{testserver.Mongo, testserver.MariaDB} {
		srv := testserver.Get(b, kind)
		b.Run("to-"+kind, func(b *testing.B) {
			dir := b.TempDir()
			var took [4]time.Duration
			var cpu time.Duration // of the copy variant
			i := 0
			copyTo := func(b *testing.B, url string, args ...string) (time.Duration, time.Duration) {
				i++
				args = append([]string{"copy", "--from", srcURL, "--to", url, "--map", filepath.Join(dir, fmt.Sprint(i))}, args...)
				a, _, errb := testApp(&memStores{}, dir, func(string) string { return "" })
				a.progressEv = 100 * time.Millisecond
				start, cpu0 := time.Now(), cpuTime()
				if code := a.run(ctx, args); code != 0 {
					b.Fatalf("copy: exit %d\n%s", code, errb)
				}
				return time.Since(start), cpuTime() - cpu0
			}
			for b.Loop() {
				var urls [4]string
				for v := range urls {
					urls[v] = srv.Isolated(b)
					openURL(b, urls[v]) // initialized outside the timings
				}
				start := time.Now()
				dst := openURL(b, urls[0])
				for i := range commits {
					a := commits[i].CommitAttempt
					if _, err := dst.Commit(ctx, &a); err != nil {
						b.Fatal(err)
					}
				}
				took[0] += time.Since(start)
				d, c := copyTo(b, urls[1], "-q")
				took[1] += d
				cpu += c
				d, _ = copyTo(b, urls[2], "-q", "--redispatch")
				took[2] += d
				d, _ = copyTo(b, urls[3])
				took[3] += d
			}
			var r [4]float64
			for v, d := range took {
				r[v] = float64(len(commits)*b.N) / d.Seconds()
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(r[0], "commit/s")
			b.ReportMetric(r[1], "copy/s")
			b.ReportMetric(r[2], "redispatch/s")
			b.ReportMetric(r[3], "progress/s")
			b.ReportMetric(r[1]/r[0], "copy/commit")
			b.ReportMetric(r[2]/r[0], "redispatch/commit")
			b.ReportMetric(r[3]/r[1], "progress/copy")
			b.ReportMetric(float64(cpu.Microseconds())/float64(len(commits)*b.N), "copy-cpu-us/commit")
		})
	}
}

// BenchmarkCopyProgress measures what progress output costs where it
// costs most, relative to the work: a copy between two in-memory stores
// (20,000 commits), quiet, with plain progress lines (every 100ms), and with
// the terminal progress bar.
//
//	go test -run '^$' -bench BenchmarkCopyProgress -count 5 ./cmd/eventstore/
func BenchmarkCopyProgress(b *testing.B) {
	const n = 20000
	ms := &memStores{}
	for s := range n / 50 {
		if err := seed(ms.get(b, "src"), "default", fmt.Sprint("s", s), 50, nil); err != nil {
			b.Fatal(err)
		}
	}
	for _, v := range []struct {
		name  string
		quiet bool
		tty   bool
	}{{"quiet", true, false}, {"lines", false, false}, {"bar", false, true}} {
		b.Run(v.name, func(b *testing.B) {
			dir := b.TempDir()
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				dst := fmt.Sprint("dst-", v.name, i)
				a, _, errb := testApp(ms, dir, func(string) string { return "" })
				a.stderr = io.Discard
				a.tty, a.progressEv = v.tty, 100*time.Millisecond
				args := []string{"copy", "--from", "memory://src", "--to", "memory://" + dst, "--map", filepath.Join(dir, dst)}
				if v.quiet {
					args = append(args, "-q")
				}
				b.StartTimer()
				if code := a.run(context.Background(), args); code != 0 {
					b.Fatalf("copy: exit %d\n%s", code, errb)
				}
				b.StopTimer()
				ms.mu.Lock()
				delete(ms.m, dst) // let it go
				ms.mu.Unlock()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}

// BenchmarkProgressSet is what progress costs a copy per commit (one Set),
// to compare with what a commit costs (BenchmarkCopy, BenchmarkCopyProgress).
func BenchmarkProgressSet(b *testing.B) {
	for _, tty := range []bool{false, true} {
		b.Run(map[bool]string{false: "lines", true: "bar"}[tty], func(b *testing.B) {
			a := newApp(nil, io.Discard, io.Discard)
			a.tty = tty
			p := a.newProgress("copy", int64(b.N))
			var i int64
			for b.Loop() {
				i++
				p.Set(i)
			}
			p.Done()
		})
	}
}
