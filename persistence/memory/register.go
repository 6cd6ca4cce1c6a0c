package memory

import (
	"context"
	"net/url"
	"strconv"

	"github.com/goeventstore/eventstore/persistence"
)

func init() {
	persistence.Register("memory", Open)
}

// Open is the engine's persistence.Opener. It accepts "" and "memory://"
// (also "memory:"), optionally with a page_size query parameter, as in
// "memory://?page_size=3", and returns a new, empty engine each time.
func Open(ctx context.Context, dataSource string) (persistence.Engine, error) {
	if dataSource == "" {
		return New(), nil
	}
	u, err := url.Parse(dataSource)
	if err != nil || u.Scheme != "memory" || u.Host != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return nil, &persistence.ValidationError{Field: "dataSource", Value: dataSource, Reason: `want "memory://" or ""`}
	}
	var opts []Option
	for k, v := range u.Query() {
		if k != "page_size" || len(v) != 1 {
			return nil, &persistence.ValidationError{Field: "dataSource", Value: dataSource, Reason: "unknown parameter " + strconv.Quote(k) + " (known: page_size)"}
		}
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 {
			return nil, &persistence.ValidationError{Field: "dataSource", Value: dataSource, Reason: "page_size must be a positive integer"}
		}
		opts = append(opts, WithPageSize(n))
	}
	return New(opts...), nil
}
