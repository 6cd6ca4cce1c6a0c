package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/goeventstore/eventstore/acceptance"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/driver"
)

// BenchmarkEngine compares the engine with the plain SDK on the same server
// in the same run (see acceptance.Bench), on every S3 server kind:
//
//	go test -run '^$' -bench Engine -benchtime 200x ./persistence/s3
//
// Baseline: one PutObject with If-None-Match: * of the same payload per
// commit; for the read, a LIST of the stream's claims and a GET of each
// (as many at once as the engine runs), decoding them.
func BenchmarkEngine(b *testing.B) {
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			rawURL := testserver.Get(b, s.kind).Isolated(b)
			acceptance.Bench(b, harness(rawURL, func(ctx context.Context, opts ...persistence.Option) (*persistence.Engine, error) {
				return Open(ctx, rawURL, opts...)
			}))
		})
	}
}

// BenchmarkEngineLatency is BenchmarkEngine's Commit and Commit16 with a
// round trip of testserver.BenchLatency (10 ms unless
// EVENTSTORE_BENCH_LATENCY says) added under the SDK to every request of
// the engine and of the baseline alike, as S3 in a region is that far from
// its clients where a server on loopback is not. With it the one-writer
// rate is set by the requests a commit waits for in turn, and the
// 16-writer rate by how far writers wait for each other, rather than by
// the two CPUs the test server shares with the benchmark:
//
//	go test -run '^$' -bench 'EngineLatency/.*/Commit' -benchtime 200x -timeout 30m ./persistence/s3
func BenchmarkEngineLatency(b *testing.B) {
	d := testserver.BenchLatency()
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			rawURL := testserver.Get(b, s.kind).Isolated(b)
			acceptance.Bench(b, harness(rawURL, func(ctx context.Context, opts ...persistence.Option) (*persistence.Engine, error) {
				t := http.DefaultTransport.(*http.Transport).Clone()
				t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
				client, bucket := testClient(b, rawURL, testserver.Latency(t, d), true)
				return New(client, bucket, "", opts...)
			}))
		})
	}
}

// harness returns the BenchHarness of an engine on the bucket of rawURL
// that open opens, against its own *s3.Client.
func harness(rawURL string, open func(ctx context.Context, opts ...persistence.Option) (*persistence.Engine, error)) acceptance.BenchHarness {
	u, _ := url.Parse(rawURL)
	bucket := u.Host
	return acceptance.BenchHarness{
		New: func(ctx context.Context, b *testing.B, opts ...persistence.Option) (*persistence.Engine, error) {
			return open(ctx, opts...)
		},
		Baseline: func(ctx context.Context, b *testing.B, e *persistence.Engine) (*acceptance.Baseline, error) {
			var c *s3.Client
			if !e.As(&c) {
				return nil, fmt.Errorf("the engine does not expose its *s3.Client")
			}
			k := keys{}
			return &acceptance.Baseline{
				Insert: func(ctx context.Context, stream string, seq int, payload []byte) error {
					_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket,
						Key:  aws.String(fmt.Sprintf("plain/%s/%020d", stream, seq)),
						Body: bytes.NewReader(payload), IfNoneMatch: aws.String("*")})
					return err
				},
				Read: func(ctx context.Context, bucketID, streamID string) (int, error) {
					return plainRead(ctx, c, bucket, k.claims(bucketID, streamID))
				},
				Seed: func(ctx context.Context, bucketID, streamID string, n int, payload []byte) error {
					return seed(ctx, &objects{c: c, bucket: bucket}, k, bucketID, streamID, n, payload)
				},
			}, nil
		},
	}
}

// plainRead lists the keys under prefix and GETs them, fanOut at once,
// decoding each, and returns the events they hold.
func plainRead(ctx context.Context, c *s3.Client, bucket, prefix string) (int, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		for _, o := range page.Contents {
			keys = append(keys, *o.Key)
		}
	}
	events := make([]int, len(keys))
	err := each(ctx, len(keys), func(ctx context.Context, i int) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &keys[i]})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		var r record
		if err := json.NewDecoder(out.Body).Decode(&r); err != nil {
			return err
		}
		events[i] = r.Events
		return nil
	})
	total := 0
	for _, n := range events {
		total += n
	}
	return total, err
}

// seed stores n one-event commits of payload in the stream as the engine
// stores them (log slots of maxSlotCommits intents, then the claims),
// faster than n commits would.
func seed(ctx context.Context, o *objects, k keys, bucketID, streamID string, n int, payload []byte) error {
	recs := make([]record, n)
	now := time.Now().UTC().UnixMicro()
	for i := range recs {
		recs[i] = record{Bucket: bucketID, Stream: streamID, Rev: i + 1, Seq: i + 1, ID: driver.NewUUID(),
			Stamp: now, Events: 1, Data: payload}
	}
	t, err := lastSlot(ctx, o, k, 0)
	if err != nil {
		return err
	}
	cps := make([]int64, n)
	for first := 0; first < n; first += maxSlotCommits {
		t++
		s := slot{Nonce: "seed", Intents: recs[first:min(n, first+maxSlotCommits)]}
		for i := range s.Intents {
			cps[first+i] = checkpointOf(t, i)
		}
		body, err := json.Marshal(&s)
		if err != nil {
			return err
		}
		if _, err := o.create(ctx, k.log(t), body, nil); err != nil {
			return err
		}
	}
	return each(ctx, n, func(ctx context.Context, i int) error {
		body, meta, err := claimBody(&recs[i], cps[i])
		if err != nil {
			return err
		}
		_, err = o.create(ctx, k.claim(bucketID, streamID, i+1), body, meta)
		return err
	})
}
