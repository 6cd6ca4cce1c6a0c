package azuretables

import (
	"net/http"
	"testing"

	"github.com/goeventstore/eventstore/internal/testserver"
)

// BenchmarkSharedLatency is BenchmarkShared's Commit and Commit16 with a
// round trip of testserver.BenchLatency (10 ms unless
// EVENTSTORE_BENCH_LATENCY says) added under the SDK to every request of
// the engine and of the baseline alike, as Azure Table Storage is that far
// from its clients where Azurite on loopback is not. With it the
// one-writer rate is set by the requests a commit waits for in turn, and
// the 16-writer rate by how far writers wait for each other, rather than
// by Azurite's one Node.js thread:
//
//	go test -run '^$' -bench 'SharedLatency/Commit' -benchtime 200x -timeout 30m ./persistence/azuretables
func BenchmarkSharedLatency(b *testing.B) {
	t := transport().Transport
	benchShared(b, &http.Client{Transport: testserver.Latency(t, testserver.BenchLatency())})
}
