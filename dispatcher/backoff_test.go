package dispatcher

import (
	"context"
	"testing"
	"time"
)

func TestBackoffCeilingGrowsAndCaps(t *testing.T) {
	b := backoff{initial: 10 * time.Millisecond, max: 100 * time.Millisecond}
	want := []time.Duration{10, 20, 40, 80, 100, 100}
	for i, w := range want {
		if got := b.ceiling(i + 1); got != w*time.Millisecond {
			t.Errorf("ceiling(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	huge := backoff{initial: time.Hour, max: time.Duration(1<<63 - 1)}
	if got := huge.ceiling(200); got <= 0 {
		t.Errorf("ceiling(200) overflowed to %v", got)
	}
}

func TestBackoffDelayIsJitteredBelowCeiling(t *testing.T) {
	b := backoff{initial: time.Millisecond, max: 8 * time.Millisecond}
	for attempt := 1; attempt <= 6; attempt++ {
		c := b.ceiling(attempt)
		distinct := map[time.Duration]bool{}
		for range 200 {
			d := b.delay(attempt)
			if d < 0 || d > c {
				t.Fatalf("delay(%d) = %v, outside [0, %v]", attempt, d, c)
			}
			distinct[d] = true
		}
		if len(distinct) < 10 {
			t.Errorf("delay(%d): only %d distinct values in 200 draws: no jitter", attempt, len(distinct))
		}
	}
}

func TestSleepStopsOnContextAndStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if sleep(ctx, nil, time.Hour) {
		t.Error("sleep with a done context reported a full wait")
	}
	stop := make(chan struct{})
	close(stop)
	if sleep(context.Background(), stop, time.Hour) {
		t.Error("sleep with a closed stop channel reported a full wait")
	}
	if !sleep(context.Background(), nil, time.Microsecond) {
		t.Error("short sleep reported an interruption")
	}
}
