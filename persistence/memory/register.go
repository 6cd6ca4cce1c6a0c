package memory

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strconv"

	"github.com/goeventstore/eventstore/persistence"
)

func init() {
	persistence.Register(name, Open)
}

// Open is the engine's persistence.Opener: it returns a new, empty engine
// each time. dataSource is "" or "memory://" (also "memory:"), optionally
// with the portable URL parameters page_size, op_timeout and admin_timeout
// and the engine's keep_values (see WithKeepValues), as in
// "memory://?page_size=3&keep_values=false". opts are applied after them,
// as for New, and win; unlike New, Open refuses invalid settings
// (*persistence.ValidationError).
func Open(ctx context.Context, dataSource string, opts ...persistence.Option) (*persistence.Engine, error) {
	rest, s, err := persistence.ParseEngineSettings(dataSource, []string{keepValues}, opts...)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		u, err := url.Parse(rest)
		if err != nil || u.Scheme != name || u.Host != "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.Opaque != "" || u.Fragment != "" {
			return nil, &persistence.ValidationError{Field: "dataSource", Value: dataSource, Reason: `want "memory://" or ""`}
		}
		if q := u.Query(); len(q) > 0 {
			keys := slices.Sorted(maps.Keys(q))
			return nil, &persistence.ValidationError{Field: "dataSource", Value: dataSource,
				Reason: "unknown parameter " + strconv.Quote(keys[0]) + " (known: keep_values, page_size, op_timeout, admin_timeout)"}
		}
	}
	d, err := newDriver(s)
	if err != nil {
		return nil, err
	}
	return persistence.NewEngineWithSettings(name, d, s), nil
}
