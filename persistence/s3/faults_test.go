package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/goeventstore/eventstore/persistence"
)

// Fault modes of faultyTransport, applied at request index k (from 1,
// counted from arm).
const (
	failBefore       = iota // the writer dies before sending request k: k and every later request fail unsent
	loseAnswer              // request k reaches the server, its answer is lost (a connection reset); later requests pass
	stopAfter               // request k is answered, then the writer dies: every later request fails unsent
	stripIfNoneMatch        // no fault: every request is sent without its If-None-Match header (a server that ignores it)
	stopAfterLog            // the writer dies right after its first successful log write
)

var modeNames = []string{"FailBefore", "LoseAnswer", "StopAfter", "StripIfNoneMatch", "StopAfterLog"}

// errInjected is the error of requests the transport refuses to send.
var errInjected = errors.New("injected fault: the writer is gone")

// faultyTransport is an http.RoundTripper under the SDK that counts the
// requests made after arm and injects one fault. It logs every request it
// counts, for failure messages.
type faultyTransport struct {
	base http.RoundTripper
	// resign re-signs a request whose headers the transport changed
	// (stripIfNoneMatch), as the SDK would have signed it.
	resign func(r *http.Request) error

	mu    sync.Mutex
	armed bool
	mode  int
	at    int
	n     int
	dead  bool
	log   []string
}

func (f *faultyTransport) arm(mode, at int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.mode, f.at, f.n, f.dead, f.log = true, mode, at, 0, false, nil
}

// requests returns how many requests were made since arm, and their log.
func (f *faultyTransport) requests() (int, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, append([]string(nil), f.log...)
}

func (f *faultyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	if f.mode == stripIfNoneMatch && f.armed {
		f.mu.Unlock()
		if r.Header.Get("If-None-Match") != "" {
			r = r.Clone(r.Context())
			r.Header.Del("If-None-Match")
			if err := f.resign(r); err != nil {
				return nil, err
			}
		}
		return f.base.RoundTrip(r)
	}
	if !f.armed {
		f.mu.Unlock()
		return f.base.RoundTrip(r)
	}
	f.n++
	k := f.n
	what := r.Method + " " + r.URL.Path
	if q := r.URL.Query(); q.Has("list-type") {
		what += "?prefix=" + q.Get("prefix") + "&start-after=" + q.Get("start-after")
	}
	if r.Header.Get("If-None-Match") != "" {
		what += " [If-None-Match]"
	}
	if r.Header.Get("If-Match") != "" {
		what += " [If-Match]"
	}
	f.log = append(f.log, fmt.Sprintf("%d: %s", k, what))
	dead := f.dead
	if (f.mode == failBefore && k >= f.at) || (f.mode == stopAfter && k > f.at) {
		dead = true
		f.dead = true
	}
	mode, at := f.mode, f.at
	f.mu.Unlock()
	if dead {
		drain(r)
		return nil, errInjected
	}
	resp, err := f.base.RoundTrip(r)
	if err == nil && mode == stopAfterLog && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/log/") && resp.StatusCode == http.StatusOK {
		f.mu.Lock()
		f.dead = true
		f.mu.Unlock()
	}
	if err == nil && mode == loseAnswer && k == at {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return resp, err
}

func drain(r *http.Request) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
}

// resigner returns a function that signs requests again with the
// credentials of the s3:// URL of testserver (SigV4 covers If-None-Match:
// a transport that drops it must sign again, as a server that ignores it
// would have been sent a valid request).
func resigner(t testing.TB, rawURL string) func(r *http.Request) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	creds := aws.Credentials{AccessKeyID: q.Get("access_key_id"), SecretAccessKey: q.Get("secret_access_key")}
	signer := v4.NewSigner()
	return func(r *http.Request) error {
		return signer.SignHTTP(r.Context(), creds, r, r.Header.Get("X-Amz-Content-Sha256"), "s3", q.Get("region"), time.Now().UTC())
	}
}

// faultyEngine returns an initialized engine on the bucket of rawURL (an
// s3:// URL as testserver hands out) whose client sends through rt. With
// retries false the SDK does not retry (a dead writer does not come back).
func faultyEngine(t testing.TB, rawURL string, rt http.RoundTripper, retries bool, opts ...persistence.Option) *persistence.Engine {
	t.Helper()
	client, bucket := testClient(t, rawURL, rt, retries)
	e, err := New(client, bucket, "", append([]persistence.Option{persistence.WithTimeout(testTimeout)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// testClient returns an S3 client for an s3:// URL of testserver, sending
// through rt, and the bucket the URL names.
func testClient(t testing.TB, rawURL string, rt http.RoundTripper, retries bool) (*s3.Client, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	c := s3.New(s3.Options{
		Region:       q.Get("region"),
		BaseEndpoint: aws.String(q.Get("endpoint")),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(q.Get("access_key_id"), q.Get("secret_access_key"), ""),
		HTTPClient:   &http.Client{Transport: rt, Timeout: 30 * time.Second},
		RetryMaxAttempts: func() int {
			if retries {
				return 3
			}
			return 1
		}(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return c, u.Host
}
