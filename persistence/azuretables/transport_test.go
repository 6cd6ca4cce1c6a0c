package azuretables

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/goeventstore/eventstore/persistence"
)

// guard is a transport under the SDK that fails the test if the engine
// sends a batch Azure would refuse and Azurite accepts: operations on two
// partitions, more than 100 operations or more than 4 MiB of body. It also
// counts requests and batches.
type guard struct {
	t    testing.TB
	base policy.Transporter
	// countOnly turns the checks off: the guard only counts (benchmarks,
	// whose client CPU figures should not include parsing every batch).
	countOnly bool

	mu       sync.Mutex
	requests int
	batches  int
	ops      int // operations in the batches checked
	maxOps   int
}

func newGuard(t testing.TB, base policy.Transporter) *guard {
	if base == nil {
		base = transport()
	}
	return &guard{t: t, base: base}
}

func (g *guard) Do(req *http.Request) (*http.Response, error) {
	g.mu.Lock()
	g.requests++
	g.mu.Unlock()
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "$batch") {
		if g.countOnly {
			g.mu.Lock()
			g.batches++
			g.mu.Unlock()
			return g.base.Do(req)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		ops, err := checkBatch(req.Header.Get("Content-Type"), body)
		if err != nil {
			g.t.Errorf("the engine sent a batch Azure refuses: %v", err)
		}
		g.mu.Lock()
		g.batches++
		g.ops += ops
		g.maxOps = max(g.maxOps, ops)
		g.mu.Unlock()
	}
	return g.base.Do(req)
}

func (g *guard) counts() (requests, batches int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.requests, g.batches
}

// operations returns the number of operations in the batches checked.
func (g *guard) operations() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ops
}

var keyInURL = regexp.MustCompile(`\(PartitionKey='((?:[^']|'')*)',RowKey='`)

// checkBatch parses a $batch request body and returns its number of
// operations, or why Azure would refuse it.
func checkBatch(contentType string, body []byte) (int, error) {
	if len(body) > maxBatchBody {
		return 0, fmt.Errorf("body of %d bytes, over 4 MiB", len(body))
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, err
	}
	outer := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	part, err := outer.NextPart()
	if err != nil {
		return 0, err
	}
	_, cs, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
	if err != nil {
		return 0, err
	}
	inner := multipart.NewReader(part, cs["boundary"])
	pks := map[string]bool{}
	ops := 0
	for {
		p, err := inner.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ops, err
		}
		r, err := http.ReadRequest(bufio.NewReader(p))
		if err != nil {
			return ops, err
		}
		ops++
		if m := keyInURL.FindStringSubmatch(r.URL.Path); m != nil {
			pk, _ := url.PathUnescape(m[1])
			pks[pk] = true
		} else if m := keyInURL.FindStringSubmatch(r.RequestURI); m != nil {
			pk, _ := url.PathUnescape(m[1])
			pks[pk] = true
		} else {
			var e struct{ PartitionKey string }
			if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
				return ops, fmt.Errorf("operation %d (%s %s): no partition key: %v", ops, r.Method, r.RequestURI, err)
			}
			pks[e.PartitionKey] = true
		}
	}
	switch {
	case ops > maxBatchOps:
		return ops, fmt.Errorf("%d operations, over 100", ops)
	case len(pks) != 1:
		return ops, fmt.Errorf("operations on %d partitions: %v", len(pks), pks)
	}
	return ops, nil
}

// clientOptions returns SDK options with transport tr; retries < 0 turns
// the SDK's retries off, 0 keeps the engine's defaults.
func clientOptions(tr policy.Transporter, retries int) *aztables.ClientOptions {
	o := &aztables.ClientOptions{}
	o.Transport = tr
	if retries != 0 {
		o.Retry = policy.RetryOptions{MaxRetries: int32(retries), RetryDelay: 1, MaxRetryDelay: 1}
	}
	return o
}

// openWith opens and initializes an engine on url over transport tr.
func openWith(t testing.TB, url string, tr policy.Transporter, retries int, opts ...persistence.Option) (*persistence.Engine, *engine) {
	t.Helper()
	d, s, err := open(url, clientOptions(tr, retries), opts...)
	if err != nil {
		t.Fatal(err)
	}
	e := persistence.NewEngineWithSettings("azuretables", d, s)
	t.Cleanup(func() { e.Close(t.Context()) })
	if err := e.Initialize(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e, d
}
