package relay

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff returns a random wait in [0, min(initial*2^(attempt-1), limit)]
// (zero initial and limit: the subscription defaults).
func backoff(initial, limit time.Duration, attempt int) time.Duration {
	if initial <= 0 {
		initial = 100 * time.Millisecond
	}
	if limit <= 0 {
		limit = 30 * time.Second
	}
	d := initial
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
