package persistence

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of the portable settings.
const (
	// DefaultPageSize is how many commits a read asks the engine for at once.
	DefaultPageSize = 512
	// DefaultTimeout bounds every data operation (a commit, one page of a
	// read, a snapshot, marking a commit dispatched): a storage that does
	// not answer in time gives ErrStorageUnavailable.
	DefaultTimeout = 5 * time.Second
	// DefaultAdminTimeout bounds Initialize, DeleteStream, Purge,
	// PurgeBucket, Drop and each call of MarkDispatchedBatch, which may
	// touch much data.
	DefaultAdminTimeout = time.Minute
)

// Settings are an engine's configuration: the portable layer's settings and
// the engine's own, by name. Every engine spells its options the same way in
// code (Option values) and in URLs (query parameters of the same names).
type Settings struct {
	// PageSize is how many commits (or stream heads) a read fetches with
	// its first engine call; a read that keeps finding full pages doubles
	// it, up to 8 times PageSize. URL: page_size. Default DefaultPageSize.
	PageSize int
	// Timeout bounds each data operation. URL: op_timeout (a Go duration,
	// "5s"). Default DefaultTimeout.
	Timeout time.Duration
	// AdminTimeout bounds the administrative operations. URL:
	// admin_timeout. Default DefaultAdminTimeout.
	AdminTimeout time.Duration
	// Engine holds the engine's own options by name (table_prefix, say), as
	// set by the engine package's Option functions; engines read them with
	// Settings.String and Settings.Int.
	Engine map[string]string
}

// Option sets one setting. Engine packages offer Option functions of their
// own (built with WithEngineOption) beside the portable ones here, so that
// every constructor takes ...Option.
type Option func(*Settings)

// WithPageSize sets Settings.PageSize.
func WithPageSize(n int) Option { return func(s *Settings) { s.PageSize = n } }

// WithTimeout sets Settings.Timeout.
func WithTimeout(d time.Duration) Option { return func(s *Settings) { s.Timeout = d } }

// WithAdminTimeout sets Settings.AdminTimeout.
func WithAdminTimeout(d time.Duration) Option { return func(s *Settings) { s.AdminTimeout = d } }

// WithEngineOption sets the engine's own option name to value, as the URL
// parameter of that name would. Engine packages wrap it in typed functions
// (mysql.WithTablePrefix, say).
func WithEngineOption(name, value string) Option {
	return func(s *Settings) {
		if s.Engine == nil {
			s.Engine = map[string]string{}
		}
		s.Engine[name] = value
	}
}

// NewSettings applies opts to the defaults and validates the result.
func NewSettings(opts ...Option) (*Settings, error) {
	s := &Settings{}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	return s, s.fill()
}

func (s *Settings) fill() error {
	switch {
	case s.PageSize < 0:
		return &ValidationError{Field: "page_size", Value: s.PageSize, Reason: "must be positive"}
	case s.Timeout < 0:
		return &ValidationError{Field: "op_timeout", Value: s.Timeout, Reason: "must be positive"}
	case s.AdminTimeout < 0:
		return &ValidationError{Field: "admin_timeout", Value: s.AdminTimeout, Reason: "must be positive"}
	}
	if s.PageSize == 0 {
		s.PageSize = DefaultPageSize
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.AdminTimeout == 0 {
		s.AdminTimeout = DefaultAdminTimeout
	}
	return nil
}

// String returns the engine option name and whether it is set.
func (s *Settings) String(name string) (string, bool) {
	v, ok := s.Engine[name]
	return v, ok
}

// Int returns the engine option name as a positive integer, def if unset.
func (s *Settings) Int(name string, def int) (int, error) {
	v, ok := s.Engine[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, &ValidationError{Field: name, Value: v, Reason: "must be a positive integer"}
	}
	return n, nil
}

// portableParams are the URL parameters the portable layer consumes.
var portableParams = []string{"page_size", "op_timeout", "admin_timeout"}

// TakeURLOptions removes the portable parameters (page_size, op_timeout,
// admin_timeout) from the query of dataSource (a URL, or a DSN whose
// parameters follow its last "?") and returns the rest of the data source
// and the options they set. Options given in code are applied after them,
// and so win.
func TakeURLOptions(dataSource string) (string, []Option, error) {
	i := strings.LastIndexByte(dataSource, '?')
	if i < 0 {
		return dataSource, nil, nil
	}
	q, err := url.ParseQuery(dataSource[i+1:])
	if err != nil {
		return dataSource, nil, nil // not a query: the engine's own syntax
	}
	var opts []Option
	for _, name := range portableParams {
		if !q.Has(name) {
			continue
		}
		v := q.Get(name)
		q.Del(name)
		switch name {
		case "page_size":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return "", nil, &ValidationError{Field: name, Value: v, Reason: "must be a positive integer"}
			}
			opts = append(opts, WithPageSize(n))
		default:
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return "", nil, &ValidationError{Field: name, Value: v, Reason: `must be a positive duration such as "5s"`}
			}
			if name == "op_timeout" {
				opts = append(opts, WithTimeout(d))
			} else {
				opts = append(opts, WithAdminTimeout(d))
			}
		}
	}
	if len(opts) == 0 {
		return dataSource, nil, nil
	}
	rest := dataSource[:i]
	if len(q) > 0 {
		rest += "?" + q.Encode()
	}
	return rest, opts, nil
}

// ParseSettings is what an engine's Open does first: it takes the portable
// parameters out of dataSource (see TakeURLOptions), applies them and then
// opts (so options given in code win), and returns the rest of the data
// source for the engine to parse.
func ParseSettings(dataSource string, opts ...Option) (string, *Settings, error) {
	rest, urlOpts, err := TakeURLOptions(dataSource)
	if err != nil {
		return "", nil, err
	}
	s, err := NewSettings(append(urlOpts, opts...)...)
	if err != nil {
		return "", nil, err
	}
	return rest, s, nil
}
