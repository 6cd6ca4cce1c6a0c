package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

// BenchmarkCopy compares, in one run, copying 1,000 commits from MySQL
// (MariaDB) to Mongo (FerretDB) with the plain commit throughput of the
// target, the slower engine, with the same single writer:
//
//   - commit: the same 1,000 commits written with Engine.Commit, one after
//     the other, into a fresh database (the ceiling);
//   - copy: eventstore copy -q (half the source dispatched: 500 commits
//     also marked dispatched in the target, by the markers beside the
//     writer);
//   - copy-progress: the same with progress lines on stderr.
//
// Each reports commits/s; the ratio copy/commit is the figure to quote.
//
//	go test -run '^$' -bench BenchmarkCopy -benchtime 3x ./cmd/eventstore/
func BenchmarkCopy(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	srcURL := testserver.Get(b, testserver.MariaDB).Isolated(b)
	src := openURL(b, srcURL)
	seedServer(b, src, 40, n/40)
	var commits []persistence.Commit
	for c, err := range src.ReadAll(ctx, 0) {
		if err != nil {
			b.Fatal(err)
		}
		commits = append(commits, c)
	}
	mongo := testserver.Get(b, testserver.Mongo)
	rate := func(b *testing.B, d time.Duration) {
		b.ReportMetric(float64(n*b.N)/d.Seconds(), "commits/s")
		b.ReportMetric(0, "ns/op")
	}

	b.Run("commit", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			b.StopTimer()
			dst := openURL(b, mongo.Isolated(b))
			b.StartTimer()
			start := time.Now()
			for i := range commits {
				a := commits[i].CommitAttempt
				if _, err := dst.Commit(ctx, &a); err != nil {
					b.Fatal(err)
				}
			}
			total += time.Since(start)
		}
		rate(b, total)
	})
	for _, quiet := range []bool{true, false} {
		name := map[bool]string{true: "copy", false: "copy-progress"}[quiet]
		b.Run(name, func(b *testing.B) {
			var total time.Duration
			dir := b.TempDir()
			i := 0
			for b.Loop() {
				b.StopTimer()
				dstURL := mongo.Isolated(b)
				openURL(b, dstURL) // initialized outside the timing, as for commit
				i++
				args := []string{"copy", "--from", srcURL, "--to", dstURL, "--map", filepath.Join(dir, fmt.Sprint(i))}
				if quiet {
					args = append(args, "-q")
				}
				a, _, errb := testApp(&memStores{}, dir, func(string) string { return "" })
				a.progressEv = 100 * time.Millisecond // many more lines than the default 2s: an upper bound on their cost
				b.StartTimer()
				start := time.Now()
				if code := a.run(ctx, args); code != 0 {
					b.Fatalf("copy: exit %d\n%s", code, errb)
				}
				total += time.Since(start)
			}
			rate(b, total)
		})
	}
}
