package azuretables

import (
	"context"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/driver"
)

// BenchmarkAzuriteCPU measures what the server spends, not the client:
// the CPU time of Azurite's process per one-writer commit and per plain
// AddEntity of the same payload, read from /proc/PID/stat, in rounds of
// 50 that alternate between the two. Wall-clock ratios on a shared
// machine move with its load; Azurite's CPU time per request moves less,
// and on a quiet machine the one-writer ratio follows it. It needs a
// server you started and its process ID (the Azurite node process, as the
// host sees it):
//
//	docker run -d --name azurite -p 127.0.0.1:10002:10002 mcr.microsoft.com/azure-storage/azurite:3.37.0 \
//		azurite-table --tableHost 0.0.0.0 --skipApiVersionCheck --disableTelemetry
//	export EVENTSTORE_AZURE_URL='azuretables://?endpoint=http%3A%2F%2F127.0.0.1%3A10002%2Fdevstoreaccount1&account=devstoreaccount1&account_key=...'
//	export EVENTSTORE_AZURITE_PID=$(docker inspect -f '{{.State.Pid}}' azurite)
//	go test -run '^$' -bench AzuriteCPU -benchtime 40x ./persistence/azuretables
//
// It reports the medians over the rounds (b.N rounds of each), and the
// median of the ratios of neighbouring rounds (which cancels the drift of
// a machine whose load changes).
func BenchmarkAzuriteCPU(b *testing.B) {
	pid := os.Getenv("EVENTSTORE_AZURITE_PID")
	if pid == "" {
		b.Skip("set EVENTSTORE_AZURITE_PID to the Azurite process behind EVENTSTORE_AZURE_URL")
	}
	cpu := func() time.Duration {
		raw, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			b.Fatal(err)
		}
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ = 100
	}
	ctx := context.Background()
	d, s, err := open(isolatedURL(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	e := persistence.NewEngineWithSettings("azuretables", d, s)
	defer e.Close(ctx)
	if err := e.Initialize(ctx); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 512)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	const round = 50
	seq, plain := 0, 0
	var commits, inserts, ratios []float64
	b.ResetTimer()
	for range b.N {
		c0 := cpu()
		for range round {
			seq++
			a := &persistence.CommitAttempt{BucketID: "bench", StreamID: "one", StreamRevision: seq, CommitSequence: seq,
				CommitID: persistence.NewUUID(), CommitStamp: time.Now().UTC(), EventCount: 1, Payload: payload}
			if _, err := e.Commit(ctx, a); err != nil {
				b.Fatal(err)
			}
		}
		c1 := cpu()
		for range round {
			plain++
			en := newEnt("plain", commitRK(plain)).str("B", "bench").str("S", "one").i32("Q", plain).i32("R", plain).
				i32("E", 1).str("I", driver.NewUUID().String()).i64("T", time.Now().UnixMicro()).bin("P0", payload)
			if _, err := d.table.AddEntity(ctx, en.bytes(), nil); err != nil {
				b.Fatal(err)
			}
		}
		c2 := cpu()
		commits = append(commits, float64(c1-c0)/float64(time.Millisecond)/round)
		inserts = append(inserts, float64(c2-c1)/float64(time.Millisecond)/round)
		if c1 > c0 {
			ratios = append(ratios, float64(c2-c1)/float64(c1-c0))
		}
	}
	median := func(v []float64) float64 {
		sort.Float64s(v)
		return v[len(v)/2]
	}
	b.Logf("Azurite CPU per commit %v ms, per insert %v ms", commits, inserts)
	mc, mi := median(commits), median(inserts)
	b.ReportMetric(mc, "azurite-ms/commit")
	b.ReportMetric(mi, "azurite-ms/insert")
	b.ReportMetric(median(ratios), "ratio")
	b.ReportMetric(0, "ns/op")
}
