package azuretables

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/driver"
)

// BenchmarkShared runs the shared paired benchmarks (acceptance.Bench:
// Commit, Commit16, ReadStream, each alternating with its baseline in one
// run and reporting the ratio) against the plain SDK on the same Azurite:
//
//	Commit, Commit16  one AddEntity of an entity holding the same payload
//	                  (a binary property, the commit's fields beside it),
//	                  in a partition per stream
//	ReadStream        the SDK's pager over the stream's commit rows (the
//	                  engine's filter), decoded into the same struct
//
// Run it with
//
//	go test -run '^$' -bench BenchmarkShared -benchtime 3s -count 3 ./persistence/azuretables
func BenchmarkShared(b *testing.B) { benchShared(b, nil) }

// benchShared is BenchmarkShared with the engine's and the baseline's
// requests sent through base (the engine's default transport if nil).
func benchShared(b *testing.B, base policy.Transporter) {
	var d *engine
	var g *guard
	acceptance.Bench(b, acceptance.BenchHarness{
		New: func(ctx context.Context, b *testing.B, opts ...persistence.Option) (*persistence.Engine, error) {
			// The guard only counts here: the tests check every batch the
			// engine sends, and parsing them would add the check's CPU
			// time to the engine's side.
			g = newGuard(b, base)
			g.countOnly = true
			drv, s, err := open(isolatedURL(b), clientOptions(g, 0), opts...)
			if err != nil {
				return nil, err
			}
			d = drv
			return persistence.NewEngineWithSettings("azuretables", drv, s), nil
		},
		Baseline: func(ctx context.Context, b *testing.B, e *persistence.Engine) (*acceptance.Baseline, error) {
			return &acceptance.Baseline{
				Insert: func(ctx context.Context, stream string, seq int, payload []byte) error {
					pk := "plain-" + stream
					en := newEnt(pk, commitRK(seq)).str("B", "bench").str("S", stream).i32("Q", seq).i32("R", seq).
						i32("E", 1).str("I", driver.NewUUID().String()).i64("T", time.Now().UnixMicro()).bin("P0", payload)
					_, err := d.table.AddEntity(ctx, en.bytes(), nil)
					return err
				},
				Read: func(ctx context.Context, bucketID, streamID string) (int, error) {
					filter := fmt.Sprintf("PartitionKey eq '%s' and RowKey gt 'c' and RowKey lt 'd'", streamPK(bucketID, streamID))
					p := d.table.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter})
					n := 0
					for p.More() {
						page, err := p.NextPage(ctx)
						if err != nil {
							return 0, err
						}
						for _, raw := range page.Entities {
							r, err := decodeRow(raw)
							if err != nil {
								return 0, err
							}
							n += r.E
						}
					}
					return n, nil
				},
				Seed: func(ctx context.Context, bucketID, streamID string, n int, payload []byte) error {
					return seed(ctx, d, bucketID, streamID, n, payload)
				},
				Close: func() {
					req, batches := g.counts()
					b.Logf("requests sent by the engine and the baseline: %d (%d batches)", req, batches)
				},
			}, nil
		},
	})
}

// seed stores n one-event commits of stream as Commit would, decided, in
// batches: log rows 98 at a time, stream rows (commit, commit ID,
// decision) 33 commits at a time, then the head.
func seed(ctx context.Context, d *engine, bucketID, streamID string, n int, payload []byte) error {
	tail, err := d.readTail(ctx)
	if err != nil {
		return err
	}
	pk := streamPK(bucketID, streamID)
	atts := make([]*driver.CommitAttempt, n)
	for i := range n {
		a := attempt(bucketID, streamID, i+1)
		a.Payload = payload
		atts[i] = a
	}
	for i := 0; i < n; i += 98 {
		t := &tx{}
		for j := i; j < min(i+98, n); j++ {
			a := atts[j]
			en := newEnt(logPK, slotRK(tail+int64(j)+1)).str("K", "seed").str("B", a.BucketID).str("S", a.StreamID).
				str("BH", idHash(a.BucketID)).i32("Q", a.CommitSequence).i32("R", a.StreamRevision).i32("E", 1).
				str("I", a.CommitID.String()).i64("T", a.CommitStamp.UnixMicro()).boolean("W", false).str("D", "c")
			(&payloadRef{data: payload}).put(en)
			t.add(aztables.TransactionTypeAdd, logPK, en.bytes(), nil)
		}
		t.add(aztables.TransactionTypeInsertMerge, logPK, newEnt(logPK, tailRK).i64("N", tail+int64(min(i+98, n))).bytes(), nil)
		if tail == 0 && i == 0 {
			t.add(aztables.TransactionTypeInsertReplace, logPK, newEnt(logPK, genesisRK).bytes(), nil)
		}
		if err := d.submit(ctx, t); err != nil {
			return err
		}
	}
	for i := 0; i < n; i += 33 {
		t := &tx{}
		for j := i; j < min(i+33, n); j++ {
			a, cp := atts[j], tail+int64(j)+1
			c := newEnt(pk, commitRK(a.CommitSequence)).i64("N", cp).str("B", a.BucketID).str("S", a.StreamID).
				i32("Q", a.CommitSequence).i32("R", a.StreamRevision).i32("F", a.FirstRevision()).i32("E", 1).
				str("I", a.CommitID.String()).i64("T", a.CommitStamp.UnixMicro())
			(&payloadRef{data: payload}).put(c)
			t.add(aztables.TransactionTypeAdd, pk, c.bytes(), nil)
			t.add(aztables.TransactionTypeAdd, pk, newEnt(pk, idRK(a.CommitID.String())).i32("Q", a.CommitSequence).i64("N", cp).bytes(), nil)
			t.add(aztables.TransactionTypeAdd, pk, newEnt(pk, decisionRK(cp, "seed")).str("O", "c").bytes(), nil)
		}
		if err := d.submit(ctx, t); err != nil {
			return err
		}
	}
	_, err = d.table.UpsertEntity(ctx, newEnt(pk, headRK).str("B", bucketID).str("S", streamID).i32("R", n).i32("Q", n).bytes(), nil)
	d.log.forget()
	return err
}
