package dispatcher

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff computes the waits between attempts: exponential growth of the
// cap, full jitter below it.
type backoff struct {
	initial, max time.Duration
	// jitter returns a random value in [0, n]; tests replace it.
	jitter func(n int64) int64
}

// ceiling returns the cap of the wait after the given failed attempt
// (1-based): initial * 2^(attempt-1), at most max.
func (b backoff) ceiling(attempt int) time.Duration {
	d := b.initial
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
		if d <= 0 { // overflow
			return b.max
		}
	}
	return min(d, b.max)
}

// delay returns a random wait in [0, ceiling(attempt)].
func (b backoff) delay(attempt int) time.Duration {
	c := int64(b.ceiling(attempt))
	if c <= 0 {
		return 0
	}
	if b.jitter != nil {
		return time.Duration(b.jitter(c))
	}
	return time.Duration(rand.Int64N(c + 1))
}

// sleep waits d, or until ctx is done or stop is closed; it reports whether
// the whole wait elapsed.
func sleep(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-ctx.Done():
			return false
		case <-stop:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}
