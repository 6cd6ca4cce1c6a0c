package cputime

import (
	"testing"
	"time"
)

// Rates reports a benchmark's rate per second of wall time and per
// CPU-second of the whole process (GC included).
type Rates struct{ cpu0 time.Duration }

// Start reports allocations, resets the timer and starts counting CPU time.
func Start(b *testing.B) Rates {
	b.ReportAllocs()
	b.ResetTimer()
	return Rates{Process()}
}

// Report adds unit/s and unit/cpu-s metrics, counting perOp units per
// iteration. Call it after b.StopTimer.
func (r Rates) Report(b *testing.B, unit string, perOp float64) {
	b.ReportMetric(float64(b.N)*perOp/b.Elapsed().Seconds(), unit+"/s")
	if used := Process() - r.cpu0; used > 0 {
		b.ReportMetric(float64(b.N)*perOp/used.Seconds(), unit+"/cpu-s")
	}
}
