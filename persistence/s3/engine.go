package s3

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/internal/engines"
)

// The engine registers itself as "s3", so that persistence.OpenURL and
// eventstore's Wireup().UsingS3(url) open it.
func init() { persistence.Register("s3", Open) }

// engine is the S3 driver under persistence.Engine. It implements
// driver.Engine and every optional capability but ValueCommitter.
type engine struct {
	o   *objects
	k   keys
	log *appender

	seen   atomic.Int64 // the greatest log slot this engine has seen exist
	closed atomic.Int64 // every log slot up to this one is known to exist (holes.go)

	marked     markCache
	hints      hints          // the last commit of each stream by this engine
	background sync.WaitGroup // markers being written, skipped slots being voided
	passed     passedOver     // slots passed over, for the sweep that voids them (holes.go)
	counts     logCounts
}

var _ engines.Client = (*engine)(nil)

// URL query parameters of the engine (beyond the portable page_size,
// op_timeout and admin_timeout).
const (
	paramEndpoint  = "endpoint"
	paramRegion    = "region"
	paramPathStyle = "use_path_style"
	paramKeyID     = "access_key_id"
	paramSecret    = "secret_access_key"
	paramToken     = "session_token"
)

var params = []string{paramEndpoint, paramRegion, paramPathStyle, paramKeyID, paramSecret, paramToken}

// Open opens the engine named by an s3:// URL, "s3://BUCKET/PREFIX?opts":
// the bucket, a key prefix (default none: the whole bucket), and query
// parameters (see the package documentation). Credentials, region and
// endpoint come from the standard AWS configuration chain (environment,
// shared config files, roles) unless the URL sets them. Open dials
// nothing.
func Open(ctx context.Context, rawURL string, opts ...persistence.Option) (*persistence.Engine, error) {
	d, s, err := open(ctx, rawURL, opts...)
	if err != nil {
		return nil, err
	}
	return persistence.NewEngineWithSettings("s3", d, s), nil
}

// open is Open's driver, with the settings that wrap it.
func open(ctx context.Context, rawURL string, opts ...persistence.Option) (*engine, *persistence.Settings, error) {
	rest, s, err := persistence.ParseSettings(rawURL, opts...)
	if err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(rest)
	if err != nil {
		return nil, nil, &persistence.ValidationError{Field: "URL", Reason: err.Error()}
	}
	if u.Scheme != "s3" || u.Host == "" {
		return nil, nil, &persistence.ValidationError{Field: "URL", Value: redact(u),
			Reason: "must be s3://BUCKET[/PREFIX][?options]"}
	}
	q := u.Query()
	for name := range q {
		if !slices.Contains(params, name) {
			return nil, nil, &persistence.ValidationError{Field: name, Value: q.Get(name),
				Reason: "is not a parameter of s3 URLs (" + strings.Join(params, ", ") + ", page_size, op_timeout, admin_timeout)"}
		}
	}
	var lo []func(*config.LoadOptions) error
	if r := q.Get(paramRegion); r != "" {
		lo = append(lo, config.WithRegion(r))
	}
	id, secret := q.Get(paramKeyID), q.Get(paramSecret)
	if (id == "") != (secret == "") {
		return nil, nil, &persistence.ValidationError{Field: paramKeyID + ", " + paramSecret, Reason: "must be set together"}
	}
	if id != "" {
		lo = append(lo, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, q.Get(paramToken))))
	}
	lo = append(lo, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 256
	})))
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, nil, &persistence.ValidationError{Field: "URL", Reason: "AWS configuration: " + err.Error()}
	}
	endpoint := q.Get(paramEndpoint)
	if endpoint != "" {
		eu, err := url.Parse(endpoint)
		if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
			return nil, nil, &persistence.ValidationError{Field: paramEndpoint, Value: endpoint, Reason: "must be an http:// or https:// URL"}
		}
		if cfg.Region == "" {
			cfg.Region = "us-east-1" // S3 look-alikes accept any region
		}
	}
	pathStyle := false
	if v := q.Get(paramPathStyle); v != "" {
		if pathStyle, err = strconv.ParseBool(v); err != nil {
			return nil, nil, &persistence.ValidationError{Field: paramPathStyle, Value: v, Reason: "must be true or false"}
		}
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = pathStyle
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	prefix, err := url.PathUnescape(strings.TrimPrefix(u.Path, "/"))
	if err != nil {
		return nil, nil, &persistence.ValidationError{Field: "URL", Reason: "prefix: " + err.Error()}
	}
	d, err := newEngine(client, u.Host, prefix, s)
	if err != nil {
		return nil, nil, err
	}
	return d, s, nil
}

// New returns an engine storing under prefix (may be empty) in bucket,
// through client, which the caller owns and configures (credentials,
// endpoint, retries, HTTP client).
func New(client *s3.Client, bucket, prefix string, opts ...persistence.Option) (*persistence.Engine, error) {
	if client == nil {
		return nil, &persistence.ValidationError{Field: "client", Reason: "must not be nil"}
	}
	if bucket == "" {
		return nil, &persistence.ValidationError{Field: "bucket", Reason: "must not be empty"}
	}
	return persistence.NewEngineFrom("s3", func(s *persistence.Settings) (*engine, error) { return newEngine(client, bucket, prefix, s) }, opts...)
}

// newEngine returns the driver storing under prefix in bucket, refusing
// engine options (it has none).
func newEngine(client *s3.Client, bucket, prefix string, s *persistence.Settings) (*engine, error) {
	if err := s.Only("s3"); err != nil {
		return nil, err
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if len(prefix) > 400 {
		return nil, &persistence.ValidationError{Field: "prefix", Value: prefix, Reason: "must be at most 400 bytes"}
	}
	o := &objects{c: client, bucket: bucket}
	k := keys{p: prefix}
	wait := s.Timeout
	if wait < 5*time.Second {
		wait = 5 * time.Second
	}
	e := &engine{o: o, k: k}
	e.log = &appender{n: &e.counts, o: o, k: k, wait: wait, seen: e.seen.Load, known: e.known, skipped: e.voidSkipped, spread: 1, rand: rand.Int64N}
	return e, nil
}

// redact returns u without its secret parameters, for messages.
func redact(u *url.URL) string {
	c := *u
	q := c.Query()
	if q.Has(paramSecret) {
		q.Set(paramSecret, "REDACTED")
	}
	if q.Has(paramToken) {
		q.Set(paramToken, "REDACTED")
	}
	c.RawQuery = q.Encode()
	return c.String()
}

// String names the engine for logs.
func (e *engine) String() string {
	return fmt.Sprintf("s3 engine (s3://%s/%s)", e.o.bucket, e.k.p)
}

// As sets *target to the engine's *s3.Client.
func (e *engine) As(target any) bool { return engines.As(target, e.o.c) }

// see records that log slot n exists.
func (e *engine) see(n int64) {
	for {
		old := e.seen.Load()
		if n <= old || e.seen.CompareAndSwap(old, n) {
			return
		}
	}
}

// markCache remembers the commit-ID markers this engine knows exist, so
// that the next commit of a stream does not write its predecessor's again.
type markCache struct {
	mu sync.Mutex
	m  map[string]struct{}
}

const markCacheMax = 1 << 16

func (c *markCache) has(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.m[key]
	return ok
}

func (c *markCache) add(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= markCacheMax {
		c.m = map[string]struct{}{}
	}
	c.m[key] = struct{}{}
}

func (c *markCache) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// hint is the last commit of a stream by this engine, and its marker
// being written.
type hint struct {
	record
	marked  chan struct{} // closed once the marker write ended
	markErr error         // its outcome
}

// hints maps streams to their hint, for the fast pre-checks.
type hints struct {
	mu sync.Mutex
	m  map[string]*hint
}

func (h *hints) get(b, s string) *hint {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[b+"\x00"+s]
}

func (h *hints) set(x *hint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= markCacheMax {
		h.m = map[string]*hint{}
	}
	h.m[x.Bucket+"\x00"+x.Stream] = x
}

func (h *hints) drop(b, s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, b+"\x00"+s)
}

func (h *hints) reset() {
	h.mu.Lock()
	h.m = nil
	h.mu.Unlock()
}

var errNoBucket = errors.New("s3: bucket does not exist")
