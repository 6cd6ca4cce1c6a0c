package persistence

import (
	"maps"
	"net/url"
	"slices"
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
	// PurgeBucket and Drop, which may touch much data.
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

// Bool returns the engine option name as a boolean ("true", "false", as
// strconv.ParseBool reads them), def if unset.
func (s *Settings) Bool(name string, def bool) (bool, error) {
	v, ok := s.Engine[name]
	if !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &ValidationError{Field: name, Value: v, Reason: "must be true or false"}
	}
	return b, nil
}

// Duration returns the engine option name as a positive Go duration
// ("10s"), def if unset.
func (s *Settings) Duration(name string, def time.Duration) (time.Duration, error) {
	v, ok := s.Engine[name]
	if !ok {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, &ValidationError{Field: name, Value: v, Reason: `must be a positive duration such as "5s"`}
	}
	return d, nil
}

// portableParams are the URL parameters the portable layer consumes.
var portableParams = []string{"page_size", "op_timeout", "admin_timeout"}

// TakeURLOptions removes the portable parameters (page_size, op_timeout,
// admin_timeout) from the query of dataSource (a URL, or a DSN whose
// parameters follow its last "?") and returns the rest of the data source
// and the options they set. Options given in code are applied after them,
// and so win.
func TakeURLOptions(dataSource string) (string, []Option, error) {
	return takeURLOptions(dataSource, nil)
}

// takeURLOptions is TakeURLOptions that also takes the engine parameters
// named in params, as engine options (see WithEngineOption).
func takeURLOptions(dataSource string, params []string) (string, []Option, error) {
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
	for _, name := range params {
		if q.Has(name) {
			opts = append(opts, WithEngineOption(name, q.Get(name)))
			q.Del(name)
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
	return ParseEngineSettings(dataSource, nil, opts...)
}

// ParseEngineSettings is ParseSettings for an engine with options of its
// own: the URL parameters named in params are taken out of dataSource's
// query as well, each as the engine option of that name (see
// WithEngineOption), which opts may set again and so override.
func ParseEngineSettings(dataSource string, params []string, opts ...Option) (string, *Settings, error) {
	rest, urlOpts, err := takeURLOptions(dataSource, params)
	if err != nil {
		return "", nil, err
	}
	s, err := NewSettings(append(urlOpts, opts...)...)
	if err != nil {
		return "", nil, err
	}
	return rest, s, nil
}

// Only returns a *ValidationError naming the first engine option of s (in
// Settings.Engine) that is not among names, the options of the engine
// called engine; nil if there is none.
func (s *Settings) Only(engine string, names ...string) error {
	known := "it has none"
	if len(names) > 0 {
		known = strings.Join(names, ", ")
	}
	for _, name := range slices.Sorted(maps.Keys(s.Engine)) {
		if !slices.Contains(names, name) {
			return &ValidationError{Field: name, Value: s.Engine[name],
				Reason: "is not an option of the " + engine + " engine (" + known + ")"}
		}
	}
	return nil
}
