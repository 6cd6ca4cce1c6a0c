package mongo

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/goeventstore/eventstore/persistence"
)

// Defaults of the engine's own settings.
const (
	DefaultDatabase  = "eventstore"
	DefaultCommits   = "commits"
	DefaultSnapshots = "snapshots"
)

// Names of the engine's options, in code (persistence.WithEngineOption) and
// as URL query parameters.
const (
	optCommits   = "commits"
	optSnapshots = "snapshots"
)

// WithCommitsCollection names the collection holding commits and checkpoint
// tombstones (URL parameter commits; default "commits").
func WithCommitsCollection(name string) persistence.Option {
	return persistence.WithEngineOption(optCommits, name)
}

// WithSnapshotsCollection names the collection holding snapshots (URL
// parameter snapshots; default "snapshots").
func WithSnapshotsCollection(name string) persistence.Option {
	return persistence.WithEngineOption(optSnapshots, name)
}

// collections returns the collection names s sets.
func collections(s *persistence.Settings) (commits, snapshots string, err error) {
	if err := s.Only("mongo", optCommits, optSnapshots); err != nil {
		return "", "", err
	}
	commits, snapshots = DefaultCommits, DefaultSnapshots
	if v, ok := s.String(optCommits); ok {
		commits = v
	}
	if v, ok := s.String(optSnapshots); ok {
		snapshots = v
	}
	if commits == "" || snapshots == "" || commits == snapshots {
		return "", "", &persistence.ValidationError{Field: "commits, snapshots", Value: commits + ", " + snapshots,
			Reason: "must name two different collections"}
	}
	return commits, snapshots, nil
}

// parseURI splits an engine URL (the portable parameters and the engine's
// own already taken out) into the driver's URI and the database its path
// names. It parses by hand rather than with net/url, which refuses the host
// lists of replica sets.
func parseURI(uri string) (driverURI, database string, _ error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok || (scheme != "mongodb" && scheme != "mongodb+srv") {
		return "", "", fmt.Errorf("must start with mongodb:// or mongodb+srv://")
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	hosts, path, _ := strings.Cut(rest, "/")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", "", fmt.Errorf("query: %w", err)
	}
	if q.Has("pageSize") {
		return "", "", fmt.Errorf("pageSize is now page_size, as for every engine")
	}
	if database, err = url.PathUnescape(path); err != nil {
		return "", "", fmt.Errorf("database: %w", err)
	}
	if database == "" {
		database = DefaultDatabase
	}
	// The driver reads the path as the authentication database; keep it.
	driverURI = scheme + "://" + hosts + "/" + path
	if len(q) > 0 {
		driverURI += "?" + q.Encode()
	}
	return driverURI, database, nil
}
