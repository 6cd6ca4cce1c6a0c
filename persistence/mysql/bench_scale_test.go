package mysql

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// BenchmarkPages measures what one page of Undispatched and of stream
// heads costs near the start and near the end of 100,000 undispatched
// commits in 100,000 streams of one bucket (seeded as TestPlansAtScale
// seeds them), for each server kind: BenchmarkPages/MySQL/... and
// BenchmarkPages/MariaDB/.... The start and end pages alternate, so that
// both meet the same conditions; each benchmark reports the time per page
// at each position and their ratio, end/start, which is about 1 when a
// page's cost does not depend on its position:
//
//	go test -run '^$' -bench BenchmarkPages -benchtime 300x ./persistence/mysql
func BenchmarkPages(b *testing.B) {
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			ctx := context.Background()
			e := openIsolated(b, isolatedURL(b, s.kind))
			db := poolOf(b, e)
			seedStreams(b, db, "b", scaleStreams, 1)
			d, err := newEngine(db, mustSettings(b))
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close(ctx)
			const limit = 100
			var top int64
			if err := db.QueryRow(sqlOf(sqlTop)).Scan(&top); err != nil {
				b.Fatal(err)
			}
			b.Run("Undispatched", func(b *testing.B) {
				pagedPositions(b, func(end bool) int {
					after := int64(0)
					if end {
						after = top - limit
					}
					page, err := d.Undispatched(ctx, after, limit)
					if err != nil {
						b.Fatal(err)
					}
					return len(page)
				})
			})
			keys := seededKeys(scaleStreams)
			nearEnd := hex.EncodeToString(keys[len(keys)-limit-1])
			b.Run("StreamHeads", func(b *testing.B) {
				pagedPositions(b, func(end bool) int {
					q := driver.HeadQuery{BucketID: "b", Threshold: 1, Limit: limit}
					if end {
						q.Cursor = nearEnd
					}
					heads, _, err := d.StreamsToSnapshot(ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					return len(heads)
				})
			})
		})
	}
}

// pagedPositions runs page(false), the page at the start, then page(true),
// the page near the end, b.N times, and reports the time per page at each
// and end/start. Each page must hold 100 entries.
func pagedPositions(b *testing.B, page func(end bool) int) {
	var start, end time.Duration
	for _, atEnd := range []bool{false, true} { // warm up: prepare the statement, load the pages
		page(atEnd)
	}
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		n := page(false)
		t1 := time.Now()
		m := page(true)
		start += t1.Sub(t0)
		end += time.Since(t1)
		if n != 100 || m != 100 {
			b.Fatalf("pages of %d and %d entries, want 100", n, m)
		}
	}
	b.ReportMetric(float64(start.Microseconds())/float64(b.N), "start-µs/page")
	b.ReportMetric(float64(end.Microseconds())/float64(b.N), "end-µs/page")
	b.ReportMetric(end.Seconds()/start.Seconds(), "end/start")
	b.ReportMetric(0, "ns/op")
}
