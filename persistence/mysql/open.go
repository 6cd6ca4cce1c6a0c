package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/goeventstore/eventstore/persistence"
)

func init() {
	persistence.Register("mysql", func(ctx context.Context, dataSource string) (persistence.Engine, error) {
		return Open(ctx, dataSource)
	})
}

// DefaultTablePrefix is the table prefix used when Options.TablePrefix is empty.
const DefaultTablePrefix = "eventstore_"

// DefaultPageSize is the number of rows a read fetches per query when
// Options.PageSize is zero.
const DefaultPageSize = 512

// Options configure an engine.
type Options struct {
	// TablePrefix is prepended to the table names (commits, snapshots,
	// schema). It must start with a letter or underscore, hold only ASCII
	// letters, digits and underscores, and be at most 32 characters. Empty
	// means DefaultTablePrefix.
	TablePrefix string
	// PageSize is the number of rows each read query fetches. Zero means
	// DefaultPageSize.
	PageSize int
}

var prefixPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,31}$`)

// withDefaults validates o and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	if o.TablePrefix == "" {
		o.TablePrefix = DefaultTablePrefix
	}
	if !prefixPattern.MatchString(o.TablePrefix) {
		return o, &persistence.ValidationError{Field: "TablePrefix", Value: o.TablePrefix,
			Reason: "must match [A-Za-z_][A-Za-z0-9_]* and be at most 32 characters"}
	}
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	}
	if o.PageSize < 0 {
		return o, &persistence.ValidationError{Field: "PageSize", Value: o.PageSize, Reason: "must not be negative"}
	}
	return o, nil
}

// Open parses dataSource with ParseDSN and opens an engine over a
// connection pool of its own, which Close closes. No connection is made
// until the first call (Initialize, usually).
func Open(ctx context.Context, dataSource string) (*Engine, error) {
	cfg, opts, err := ParseDSN(dataSource)
	if err != nil {
		return nil, err
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, &persistence.ValidationError{Field: "DSN", Reason: err.Error()}
	}
	db := sql.OpenDB(conn)
	// database/sql keeps only 2 idle connections by default: concurrent
	// writers would then dial and close a connection per call.
	db.SetMaxIdleConns(32)
	e, err := New(sqlx.NewDb(db, "mysql"), opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	e.ownDB = true
	return e, nil
}

// ParseDSN parses a data source in either of two forms and returns the
// driver configuration and the engine options:
//
//   - a go-sql-driver DSN: user:pass@tcp(host:3306)/db?param=value
//   - a URL: mysql://user:pass@host:3306/db?param=value (port 3306 if
//     omitted; user and password percent-encoded).
//
// In both forms the parameters table_prefix and page_size set the
// corresponding Options; every other parameter goes to the driver (see
// github.com/go-sql-driver/mysql for the list: timeout, tls, ...).
func ParseDSN(dataSource string) (*mysql.Config, Options, error) {
	var opts Options
	invalid := func(reason string) error {
		return &persistence.ValidationError{Field: "DSN", Reason: reason}
	}
	var cfg *mysql.Config
	if strings.HasPrefix(dataSource, "mysql://") {
		u, err := url.Parse(dataSource)
		if err != nil {
			return nil, opts, invalid(err.Error())
		}
		query, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return nil, opts, invalid(err.Error())
		}
		if opts, err = takeOptions(query); err != nil {
			return nil, opts, err
		}
		// Let the driver parse its own parameters.
		if cfg, err = mysql.ParseDSN("/?" + query.Encode()); err != nil {
			return nil, opts, invalid(err.Error())
		}
		if u.User != nil {
			cfg.User = u.User.Username()
			cfg.Passwd, _ = u.User.Password()
		}
		host := u.Host
		if host == "" {
			host = "127.0.0.1"
		}
		if u.Port() == "" {
			host = net.JoinHostPort(strings.Trim(host, "[]"), "3306")
		}
		cfg.Net, cfg.Addr = "tcp", host
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
	} else {
		var err error
		if cfg, err = mysql.ParseDSN(dataSource); err != nil {
			return nil, opts, invalid(err.Error())
		}
		query := url.Values{}
		for k, v := range cfg.Params {
			query.Set(k, v)
		}
		if opts, err = takeOptions(query); err != nil {
			return nil, opts, err
		}
		delete(cfg.Params, "table_prefix")
		delete(cfg.Params, "page_size")
	}
	if cfg.DBName == "" {
		return nil, opts, invalid("names no database")
	}
	if _, err := opts.withDefaults(); err != nil {
		return nil, opts, err
	}
	return cfg, opts, nil
}

// takeOptions removes the engine's own parameters from q and returns them.
func takeOptions(q url.Values) (Options, error) {
	var opts Options
	if q.Has("table_prefix") {
		opts.TablePrefix = q.Get("table_prefix")
		if opts.TablePrefix == "" {
			return opts, &persistence.ValidationError{Field: "table_prefix", Reason: "must not be empty"}
		}
		q.Del("table_prefix")
	}
	if q.Has("page_size") {
		n, err := strconv.Atoi(q.Get("page_size"))
		if err != nil || n <= 0 {
			return opts, &persistence.ValidationError{Field: "page_size", Value: q.Get("page_size"), Reason: "must be a positive integer"}
		}
		opts.PageSize = n
		q.Del("page_size")
	}
	return opts, nil
}

// New returns an engine over db, a pool the caller owns: Close releases the
// engine's prepared statements but leaves db open. db must be a MySQL or
// MariaDB pool of github.com/go-sql-driver/mysql.
func New(db *sqlx.DB, opts Options) (*Engine, error) {
	if db == nil {
		return nil, &persistence.ValidationError{Field: "DB", Reason: "must not be nil"}
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Engine{db: db, opts: opts, q: newQueries(opts.TablePrefix), stmts: map[string]*sql.Stmt{}}, nil
}

// NewDB is New for a plain *sql.DB.
func NewDB(db *sql.DB, opts Options) (*Engine, error) {
	if db == nil {
		return nil, &persistence.ValidationError{Field: "DB", Reason: "must not be nil"}
	}
	return New(sqlx.NewDb(db, "mysql"), opts)
}

// String describes the engine for logs, without credentials.
func (e *Engine) String() string {
	return fmt.Sprintf("mysql engine (tables %scommits, %ssnapshots)", e.opts.TablePrefix, e.opts.TablePrefix)
}
