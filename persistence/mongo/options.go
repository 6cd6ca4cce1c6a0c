package mongo

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Default names and sizes used when Options leaves them empty.
const (
	DefaultDatabase  = "eventstore"
	DefaultCommits   = "commits"
	DefaultSnapshots = "snapshots"
	DefaultPageSize  = 512
)

// Options configures an Engine. The zero value is ready to use.
type Options struct {
	// Commits names the collection holding commits and checkpoint
	// tombstones. Default "commits".
	Commits string
	// Snapshots names the collection holding snapshots. Default "snapshots".
	Snapshots string
	// PageSize is how many commits a read fetches per round trip. Default 512.
	PageSize int
}

func (o Options) withDefaults() Options {
	if o.Commits == "" {
		o.Commits = DefaultCommits
	}
	if o.Snapshots == "" {
		o.Snapshots = DefaultSnapshots
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	return o
}

// Query options of a mongodb:// URL that the engine consumes and strips
// before it hands the URL to the driver.
const (
	queryCommits   = "commits"
	querySnapshots = "snapshots"
	queryPageSize  = "pageSize"
)

// parseURI splits an engine URL into the driver's URI (the engine's own
// query options removed), the database named by its path and the options
// the query set. Options given in opts win over the query. It parses by hand
// rather than with net/url, which refuses the host lists of replica sets.
func parseURI(uri string, opts Options) (driverURI, database string, _ Options, _ error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok || (scheme != "mongodb" && scheme != "mongodb+srv") {
		return "", "", opts, fmt.Errorf("eventstore: mongo URL must start with mongodb:// or mongodb+srv://")
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	hosts, path, _ := strings.Cut(rest, "/")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", "", opts, fmt.Errorf("eventstore: mongo URL query: %w", err)
	}
	take := func(key string) string {
		v := q.Get(key)
		q.Del(key)
		return v
	}
	if v := take(queryCommits); v != "" && opts.Commits == "" {
		opts.Commits = v
	}
	if v := take(querySnapshots); v != "" && opts.Snapshots == "" {
		opts.Snapshots = v
	}
	if v := take(queryPageSize); v != "" && opts.PageSize == 0 {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return "", "", opts, fmt.Errorf("eventstore: mongo URL: %s=%q must be a positive integer", queryPageSize, v)
		}
		opts.PageSize = n
	}
	if database, err = url.PathUnescape(path); err != nil {
		return "", "", opts, fmt.Errorf("eventstore: mongo URL database: %w", err)
	}
	if database == "" {
		database = DefaultDatabase
	}
	// The driver reads the path as the authentication database; keep it.
	driverURI = scheme + "://" + hosts + "/" + path
	if len(q) > 0 {
		driverURI += "?" + q.Encode()
	}
	return driverURI, database, opts.withDefaults(), nil
}
