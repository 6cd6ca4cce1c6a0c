package mysql

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
)

// BenchmarkMySQLAppend alternates the store's Append of one event to new
// streams and to the end of a 10,000-event stream (100 commits of 100
// events), on each server, and reports the ratio of their mean costs:
// long/new is 1 when the stream's length costs nothing, which it does not,
// since Append at an exact position reads nothing.
//
//	go test -run '^$' -bench 'BenchmarkMySQLAppend' -count 5 ./persistence/mysql
func BenchmarkMySQLAppend(b *testing.B) {
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			ctx := context.Background()
			store := eventstore.New(openIsolated(b, isolatedURL(b, s.kind)), eventstore.Options{})
			body := strings.Repeat("x", 200)
			hundred := make([]eventstore.EventMessage, 100)
			for i := range hundred {
				hundred[i] = eventstore.EventMessage{Body: body}
			}
			pos := eventstore.NoStream
			for range 100 {
				c, err := store.Append(ctx, "long", pos, eventstore.NewCommitID(), hundred...)
				if err != nil {
					b.Fatal(err)
				}
				pos = c.Position()
			}
			one := eventstore.EventMessage{Body: body}
			var tNew, tLong time.Duration
			n := 0
			for b.Loop() {
				n++
				t0 := time.Now()
				if _, err := store.Append(ctx, "new-"+strconv.Itoa(n), eventstore.NoStream, eventstore.NewCommitID(), one); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				c, err := store.Append(ctx, "long", pos, eventstore.NewCommitID(), one)
				if err != nil {
					b.Fatal(err)
				}
				tNew += t1.Sub(t0)
				tLong += time.Since(t1)
				pos = c.Position()
			}
			b.ReportMetric(float64(tNew.Microseconds())/float64(n), "µs/new")
			b.ReportMetric(float64(tLong.Microseconds())/float64(n), "µs/long")
			b.ReportMetric(float64(tLong)/float64(tNew), "long/new")
		})
	}
}
