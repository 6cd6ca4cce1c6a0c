package azuretables

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/goeventstore/eventstore/persistence"
)

// The engine registers itself for azuretables:// URLs, so that
// persistence.OpenURL and eventstore's Wireup().UsingAzureTables(url) open
// it.
func init() {
	persistence.Register("azuretables", Open)
}

// DefaultTablePrefix is the table prefix used when none is set.
const DefaultTablePrefix = "eventstore"

// DefaultResolveAfter is how old an undecided log slot must be before a
// reader aborts it (see WithResolveAfter). It is shorter than
// persistence.DefaultTimeout, so that a read waits out a dead writer's slot
// within one call.
const DefaultResolveAfter = 3 * time.Second

// Engine option names, also URL parameters.
const (
	optTablePrefix  = "table_prefix"
	optResolveAfter = "resolve_after"
)

// WithTablePrefix sets the prefix of the engine's table name (the table is
// prefix+"events"). It must start with a letter, hold only ASCII letters
// and digits, and be at most 57 characters (Azure's table names are 3 to
// 63). Default DefaultTablePrefix. In an azuretables:// URL the host is the
// prefix.
func WithTablePrefix(prefix string) persistence.Option {
	return persistence.WithEngineOption(optTablePrefix, prefix)
}

// WithResolveAfter sets how long a log slot may stay undecided (its writer
// wrote the intent but not yet the commit) before a reader that meets it
// aborts it, so that a writer that died does not hold readers up. It must
// be longer than a commit takes (a live writer whose slot was aborted
// writes a new intent; nothing is lost, but the work is wasted), and it
// bounds how long a reader may wait for a dead writer's slot. Keep it
// shorter than the timeout of a call (persistence.WithTimeout): a read
// that meets a dead writer's slot waits for it within the call, and if the
// call's deadline comes first the read ends before the slot (a poller
// reads on at its next poll, but a one-shot read misses what follows). Default
// DefaultResolveAfter; URL parameter resolve_after (a Go duration).
func WithResolveAfter(d time.Duration) persistence.Option {
	return persistence.WithEngineOption(optResolveAfter, d.String())
}

var prefixPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,56}$`)

// Development storage: Azurite's well-known account, as the connection
// string UseDevelopmentStorage=true means it.
const (
	devAccount  = "devstoreaccount1"
	devKey      = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	devEndpoint = "http://127.0.0.1:10002/devstoreaccount1"
)

// Open opens the engine named by dataSource, one of:
//
//   - an azuretables:// URL, azuretables://PREFIX?endpoint=URL&account=NAME&account_key=KEY,
//     whose host is the table prefix (empty: DefaultTablePrefix) and whose
//     endpoint is the table service URL of the account (for Azurite,
//     http://127.0.0.1:10002/devstoreaccount1); without account and key
//     the requests are anonymous (for a SAS in the endpoint's query);
//   - a storage connection string: "AccountName=...;AccountKey=...;..." with
//     TableEndpoint or EndpointSuffix as the Azure portal gives it, or
//     "UseDevelopmentStorage=true" for a local Azurite.
//
// Query parameters page_size, op_timeout and admin_timeout set the portable
// settings, table_prefix and resolve_after the engine's (opts win). Open
// dials nothing. For Entra ID (token) credentials build the client
// yourself and call New.
func Open(ctx context.Context, dataSource string, opts ...persistence.Option) (*persistence.Engine, error) {
	d, s, err := open(dataSource, nil, opts...)
	if err != nil {
		return nil, err
	}
	return persistence.NewEngineWithSettings("azuretables", d, s), nil
}

// open parses dataSource and returns the engine; copts, if not nil, are the
// SDK client options (tests inject transports through them).
func open(dataSource string, copts *aztables.ClientOptions, opts ...persistence.Option) (*engine, *persistence.Settings, error) {
	rest, s, err := persistence.ParseEngineSettings(dataSource, []string{optTablePrefix, optResolveAfter}, opts...)
	if err != nil {
		return nil, nil, err
	}
	if copts == nil {
		copts = &aztables.ClientOptions{}
	}
	retryOptions(copts)
	if copts.Transport == nil {
		copts.Transport = transport()
	}
	var a *account
	if strings.HasPrefix(rest, "azuretables:") {
		a, err = accountFromURL(rest, s)
	} else {
		a, err = accountFromConnectionString(rest)
	}
	if err != nil {
		return nil, nil, err
	}
	sc, err := a.client(copts)
	if err != nil {
		return nil, nil, err
	}
	d, err := newEngine(sc, s)
	if err != nil {
		return nil, nil, err
	}
	d.wire = newWire(a.endpoint, d.name, a.key, &copts.ClientOptions)
	return d, s, nil
}

// account is what Open learned of the storage account: the table service
// URL and the credential (none: the URL holds a SAS, or the SDK parses the
// connection string).
type account struct {
	endpoint string
	name     string // with key, the shared key credential
	key      *sharedKey
	keyText  string
	connStr  string // a connection string for the SDK to parse, if set
}

// client returns the SDK's service client for a.
func (a *account) client(copts *aztables.ClientOptions) (*aztables.ServiceClient, error) {
	switch {
	case a.connStr != "":
		sc, err := aztables.NewServiceClientFromConnectionString(a.connStr, copts)
		if err != nil {
			return nil, &persistence.ValidationError{Field: "connection string", Reason: err.Error()}
		}
		return sc, nil
	case a.key == nil:
		return aztables.NewServiceClientWithNoCredential(a.endpoint, copts)
	}
	cred, err := aztables.NewSharedKeyCredential(a.name, a.keyText)
	if err != nil {
		return nil, &persistence.ValidationError{Field: "account_key", Reason: err.Error()}
	}
	return aztables.NewServiceClientWithSharedKey(a.endpoint, cred, copts)
}

// withKey sets a's shared key credential.
func (a *account) withKey(name, key string, field string) (*account, error) {
	k, err := newSharedKey(name, key)
	if err != nil {
		return nil, &persistence.ValidationError{Field: field, Reason: err.Error()}
	}
	a.name, a.keyText, a.key = name, key, k
	return a, nil
}

func accountFromURL(raw string, s *persistence.Settings) (*account, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &persistence.ValidationError{Field: "URL", Reason: err.Error()}
	}
	q := u.Query()
	if u.Host != "" {
		if _, set := s.String(optTablePrefix); !set {
			WithTablePrefix(u.Host)(s)
		}
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		return nil, &persistence.ValidationError{Field: "endpoint", Reason: "is missing: azuretables://PREFIX?endpoint=URL&account=NAME&account_key=KEY"}
	}
	ep, err := url.Parse(endpoint)
	if err != nil || (ep.Scheme != "http" && ep.Scheme != "https") || ep.Host == "" {
		return nil, &persistence.ValidationError{Field: "endpoint", Value: endpoint, Reason: "must be an http:// or https:// URL"}
	}
	a := &account{endpoint: endpoint}
	name, key := q.Get("account"), q.Get("account_key")
	if name == "" && key == "" {
		return a, nil
	}
	return a.withKey(name, key, "account_key")
}

func accountFromConnectionString(cs string) (*account, error) {
	if strings.EqualFold(strings.TrimRight(strings.TrimSpace(cs), ";"), "UseDevelopmentStorage=true") {
		return (&account{endpoint: devEndpoint}).withKey(devAccount, devKey, "connection string")
	}
	if !strings.Contains(cs, "=") {
		return nil, &persistence.ValidationError{Field: "URL",
			Reason: "want azuretables://PREFIX?endpoint=..., a storage connection string or UseDevelopmentStorage=true"}
	}
	a := &account{connStr: cs}
	// The SDK parses the connection string for its client; the wire needs
	// the endpoint and key too, which it does not give back. These are the
	// SDK's rules (aztables' parseConnectionString); a string they do not
	// cover leaves the batches to the SDK.
	kv := map[string]string{}
	for _, part := range strings.Split(strings.TrimRight(cs, ";"), ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return a, nil
		}
		kv[k] = v
	}
	name, key := kv["AccountName"], kv["AccountKey"]
	switch {
	case name == "":
		return a, nil
	case key == "":
		if sas := kv["SharedAccessSignature"]; sas != "" {
			a.endpoint = "https://" + name + ".table.core.windows.net/?" + sas
		}
		return a, nil
	}
	if k, err := newSharedKey(name, key); err == nil {
		a.key = k
	} else {
		return a, nil // the SDK reports it
	}
	a.endpoint = kv["TableEndpoint"]
	if a.endpoint == "" {
		protocol, suffix := kv["DefaultEndpointsProtocol"], kv["EndpointSuffix"]
		if protocol == "" {
			protocol = "https"
		}
		if suffix == "" {
			suffix = "core.windows.net"
		}
		a.endpoint = protocol + "://" + name + ".table." + suffix
	}
	return a, nil
}

// New returns an engine on a service client the caller built (with any
// credential, Entra ID included, and any client options). opts set the
// portable settings, WithTablePrefix and WithResolveAfter.
func New(client *aztables.ServiceClient, opts ...persistence.Option) (*persistence.Engine, error) {
	if client == nil {
		return nil, &persistence.ValidationError{Field: "client", Reason: "must not be nil"}
	}
	return persistence.NewEngineFrom("azuretables", func(s *persistence.Settings) (*engine, error) { return newEngine(client, s) }, opts...)
}

// config reads and validates the engine's own settings.
func config(s *persistence.Settings) (table string, resolveAfter time.Duration, err error) {
	prefix := DefaultTablePrefix
	if v, ok := s.String(optTablePrefix); ok {
		prefix = v
	}
	if !prefixPattern.MatchString(prefix) {
		return "", 0, &persistence.ValidationError{Field: optTablePrefix, Value: prefix,
			Reason: "must start with a letter and hold 1 to 57 ASCII letters and digits (Azure table names)"}
	}
	if resolveAfter, err = s.Duration(optResolveAfter, DefaultResolveAfter); err != nil {
		return "", 0, err
	}
	return prefix + "events", resolveAfter, nil
}

// transport is the HTTP client Open gives the SDK: azcore's default keeps
// 10 idle connections per host, fewer than the commits in flight when
// many goroutines write (each commit's stream batch goes out on its own).
func transport() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	return &http.Client{Transport: t}
}

// retryOptions are the SDK retry settings Open uses: a few quick tries, so
// that the operation timeout, not the SDK's minute of backoff, bounds a
// call during an outage.
func retryOptions(copts *aztables.ClientOptions) {
	if copts.Retry.MaxRetries == 0 && copts.Retry.RetryDelay == 0 {
		copts.Retry = policy.RetryOptions{MaxRetries: 3, RetryDelay: 100 * time.Millisecond, MaxRetryDelay: time.Second}
	}
}
