package testserver

import (
	"net/http"
	"os"
	"time"
)

// BenchLatency is the round trip Latency adds in the benchmarks that model
// a cloud service: EVENTSTORE_BENCH_LATENCY if set (a Go duration), else
// 10 ms, a same-region request to S3 or Azure Table Storage being about
// that or slower.
func BenchLatency() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("EVENTSTORE_BENCH_LATENCY")); err == nil && d >= 0 {
		return d
	}
	return 10 * time.Millisecond
}

// Latency returns an http.RoundTripper that sends each request through
// base (http.DefaultTransport if nil) after waiting d, as if the server
// were d of network away. A test server on loopback answers in well under
// a millisecond, where a cloud service's round trip takes several; a
// benchmark of a protocol of several requests per operation uses it to
// show what the protocol makes of a real round trip: how many of its
// requests a caller waits for in turn, and whether concurrent callers wait
// for each other. The wait ends early, with the request's error, if its
// context ends.
func Latency(base http.RoundTripper, d time.Duration) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return latency{base, d}
}

type latency struct {
	base http.RoundTripper
	d    time.Duration
}

func (l latency) RoundTrip(r *http.Request) (*http.Response, error) {
	t := time.NewTimer(l.d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, r.Context().Err()
	}
	return l.base.RoundTrip(r)
}
