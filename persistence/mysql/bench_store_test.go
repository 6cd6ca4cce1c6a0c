package mysql

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/internal/cputime"
	"github.com/goeventstore/eventstore/persistence"
)

// BenchmarkStoreReadAll reads 10,000 commits in checkpoint order three
// ways, in alternating phases against the same server, for each server
// kind:
//
//	store    Store.Commits: every commit decoded, its event into the
//	         registered Go type
//	raw      Store.Engine().ReadAll: commits with their payload bytes, as a
//	         projection that needs only a commit's metadata, or decodes
//	         only the commits it wants (Store.Decode), reads them
//	plain    one SELECT of the same rows and columns with database/sql
//
// and reports each rate and store/plain, raw/plain. Run it with
//
//	go test -run '^$' -bench BenchmarkStoreReadAll -benchtime 5x -timeout 30m ./persistence/mysql
func BenchmarkStoreReadAll(b *testing.B) {
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) { benchStoreReadAll(b, isolatedURL(b, s.kind)) })
	}
}

// readAllEvent is about 200 bytes of JSON, as in the root package's
// benchmarks.
type readAllEvent struct {
	OrderID    string    `json:"orderId"`
	CustomerID string    `json:"customerId"`
	Amount     float64   `json:"amount"`
	Currency   string    `json:"currency"`
	Items      []string  `json:"items"`
	PlacedAt   time.Time `json:"placedAt"`
	Note       string    `json:"note"`
}

const storeReadAll = 10000

func benchStoreReadAll(b *testing.B, url string) {
	ctx := context.Background()
	e, err := Open(ctx, url, persistence.WithTimeout(30*time.Second))
	if err != nil {
		b.Fatal(err)
	}
	s, err := eventstore.Wireup().UsingPersistence(e).RegisterType("ReadAllEvent", readAllEvent{}).Build(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(ctx)
	// Seed from 10 goroutines (one stream each) so the server's group
	// commit makes it quick.
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for w := range 10 {
		wg.Go(func() {
			at := eventstore.NoStream // each commit at the position of the last: one write, no read
			for i := w; i < storeReadAll; i += 10 {
				ev := readAllEvent{OrderID: "order-" + strconv.Itoa(i), CustomerID: "customer-42", Amount: 129.95, Currency: "EUR",
					Items: []string{"sku-1001", "sku-2002", "sku-3003"}, PlacedAt: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
					Note: "leave the parcel with the neighbour"}
				c, err := s.Append(ctx, "s-"+strconv.Itoa(w), at, eventstore.NewCommitID(), eventstore.EventMessage{Body: ev})
				if err != nil {
					errs <- err
					return
				}
				at = c.Position()
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	db := poolOf(b, e)
	st, err := db.PrepareContext(ctx, "SELECT "+commitColumns+" FROM "+DefaultTablePrefix+"commits WHERE checkpoint > ? ORDER BY checkpoint LIMIT ?")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	check := func(what string, n int) {
		if n != storeReadAll {
			b.Fatalf("%s read %d commits, want %d", what, n, storeReadAll)
		}
	}
	store := func() {
		n := 0
		for c, err := range s.Commits(ctx, 0) {
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := c.Events[0].Body.(readAllEvent); !ok {
				b.Fatalf("body %T", c.Events[0].Body)
			}
			n++
		}
		check("Store.Commits", n)
	}
	raw := func() {
		n := 0
		for c, err := range s.Engine().ReadAll(ctx, 0) {
			if err != nil || len(c.Payload) == 0 {
				b.Fatal(err, len(c.Payload))
			}
			n++
		}
		check("Engine.ReadAll", n)
	}
	plain := func() {
		rows, err := st.QueryContext(ctx, 0, storeReadAll)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		n := 0
		var commitID []byte
		var stamp int64
		for rows.Next() {
			var c persistence.Commit
			if err := rows.Scan(&c.Checkpoint, &c.BucketID, &c.StreamID, &c.StreamRevision, &c.EventCount, &commitID,
				&c.CommitSequence, &stamp, &c.Payload); err != nil {
				b.Fatal(err)
			}
			c.CommitStamp = time.UnixMicro(stamp).UTC()
			copy(c.CommitID[:], commitID)
			n++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		check("plain SELECT", n)
	}
	sides := []func(){store, raw, plain}
	var spent, cpu [3]time.Duration
	b.ResetTimer()
	for i := range b.N {
		for k := range sides {
			k = (k + i) % len(sides) // which side goes first rotates
			t0, c0 := time.Now(), cputime.Process()
			sides[k]()
			spent[k] += time.Since(t0)
			cpu[k] += cputime.Process() - c0
		}
	}
	b.StopTimer()
	rate := func(d time.Duration) float64 { return float64(b.N*storeReadAll) / d.Seconds() }
	b.ReportMetric(rate(spent[0]), "store-commits/s")
	b.ReportMetric(rate(spent[1]), "raw-commits/s")
	b.ReportMetric(rate(spent[2]), "plain-commits/s")
	b.ReportMetric(rate(spent[0])/rate(spent[2]), "store/plain")
	b.ReportMetric(rate(spent[1])/rate(spent[2]), "raw/plain")
	// The client's CPU per commit (this process, GC included; the server's
	// is not counted): what a loaded machine moves least.
	perCommit := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(b.N*storeReadAll) }
	b.ReportMetric(perCommit(cpu[0]), "store-cpu-µs/commit")
	b.ReportMetric(perCommit(cpu[1]), "raw-cpu-µs/commit")
	b.ReportMetric(perCommit(cpu[2]), "plain-cpu-µs/commit")
	b.ReportMetric(0, "ns/op")
}
