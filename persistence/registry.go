package persistence

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Opener opens an engine from a data source: a URL such as
// "mongodb://localhost:27017/events", or a form native to the engine (a
// go-sql-driver DSN for MySQL, say), and options. The engine is not yet
// initialized. Every engine package's Open function is its Opener.
type Opener func(ctx context.Context, dataSource string, opts ...Option) (*Engine, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Opener{}
)

// knownEngines maps the names of this repository's engines to the package
// that registers them, so that a missing import gets a precise error.
var knownEngines = map[string]string{
	"memory":      "github.com/goeventstore/eventstore/persistence/memory",
	"mongodb":     "github.com/goeventstore/eventstore/persistence/mongo",
	"mongodb+srv": "github.com/goeventstore/eventstore/persistence/mongo",
	"mysql":       "github.com/goeventstore/eventstore/persistence/mysql",
	"s3":          "github.com/goeventstore/eventstore/persistence/s3",
	"azuretables": "github.com/goeventstore/eventstore/persistence/azuretables",
}

// Register makes an engine available under name, which is also the URL
// scheme that opens it. Engine packages call it from init. It panics if name
// is empty, open is nil, or name is already registered, as sql.Register does.
func Register(name string, open Opener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if name == "" || open == nil {
		panic("persistence: Register with an empty name or a nil opener")
	}
	if _, dup := registry[name]; dup {
		panic("persistence: Register called twice for engine " + name)
	}
	registry[name] = open
}

// Engines returns the sorted names of the registered engines.
func Engines() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Open opens the engine registered under name with dataSource. If no engine
// has that name, the error says which package to import.
func Open(ctx context.Context, name, dataSource string, opts ...Option) (*Engine, error) {
	registryMu.RLock()
	open := registry[name]
	registryMu.RUnlock()
	if open == nil {
		if pkg, ok := knownEngines[name]; ok {
			return nil, fmt.Errorf("eventstore: engine %q is not linked in: add import _ %q", name, pkg)
		}
		return nil, fmt.Errorf("eventstore: unknown engine %q (registered: %s)", name, strings.Join(Engines(), ", "))
	}
	return open(ctx, dataSource, opts...)
}

// OpenURL opens the engine named by the URL's scheme, for example
// "mysql://root@127.0.0.1:3306/events" or "memory://".
func OpenURL(ctx context.Context, rawURL string, opts ...Option) (*Engine, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &ValidationError{Field: "URL", Reason: err.Error()}
	}
	if u.Scheme == "" {
		return nil, &ValidationError{Field: "URL", Reason: "has no scheme (want mongodb://, mysql://, s3://, azuretables:// or memory://)"}
	}
	return Open(ctx, u.Scheme, rawURL, opts...)
}
