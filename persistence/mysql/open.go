package mysql

import (
	"context"
	"database/sql"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/goeventstore/eventstore/persistence"
)

func init() { persistence.Register("mysql", Open) }

// DefaultTablePrefix is the table prefix used when none is set.
const DefaultTablePrefix = "eventstore_"

// optTablePrefix is the engine option (and URL parameter) of the prefix.
const optTablePrefix = "table_prefix"

// WithTablePrefix sets the prefix of the engine's table names (commits,
// snapshots, schema), as the URL parameter table_prefix does. It must start
// with a letter or underscore, hold only ASCII letters, digits and
// underscores, and be at most 32 characters. Default DefaultTablePrefix.
func WithTablePrefix(prefix string) persistence.Option {
	return persistence.WithEngineOption(optTablePrefix, prefix)
}

var prefixPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,31}$`)

// DB is what the engine needs of a connection pool; *sql.DB has it. It must
// be a pool of github.com/go-sql-driver/mysql on MySQL 8 or MariaDB 10.11
// (or later).
type DB interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// Open opens an engine over a connection pool of its own, which Close
// closes. No connection is made until the first call (Initialize, usually).
//
// dataSource is either a URL, mysql://user:pass@host:port/db?param=value
// (port 3306 if omitted; user and password percent-encoded), or a
// go-sql-driver DSN, user:pass@tcp(host:3306)/db?param=value. In both the
// portable parameters (page_size, op_timeout, admin_timeout) and
// table_prefix configure the engine; every other parameter goes to the
// driver (timeout, tls, ...: see github.com/go-sql-driver/mysql). Options
// given in code win over the data source's.
func Open(ctx context.Context, dataSource string, opts ...persistence.Option) (*persistence.Engine, error) {
	rest, s, err := persistence.ParseEngineSettings(dataSource, []string{optTablePrefix}, opts...)
	if err != nil {
		return nil, err
	}
	cfg, err := parseDSN(rest)
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
	d, err := newEngine(db, s)
	if err != nil {
		db.Close()
		return nil, err
	}
	d.own = db
	return persistence.NewEngineWithSettings("mysql", d, s), nil
}

// New returns an engine over db, a pool the caller owns: Close releases the
// engine's prepared statements and leaves db open.
func New(db DB, opts ...persistence.Option) (*persistence.Engine, error) {
	if db == nil {
		return nil, &persistence.ValidationError{Field: "DB", Reason: "must not be nil"}
	}
	return persistence.NewEngineFrom("mysql", func(s *persistence.Settings) (*engine, error) { return newEngine(db, s) }, opts...)
}

// newEngine returns the driver over db with the settings' table prefix.
func newEngine(db DB, s *persistence.Settings) (*engine, error) {
	prefix, ok := s.String(optTablePrefix)
	if !ok {
		prefix = DefaultTablePrefix
	}
	if !prefixPattern.MatchString(prefix) {
		return nil, &persistence.ValidationError{Field: optTablePrefix, Value: prefix,
			Reason: "must match [A-Za-z_][A-Za-z0-9_]* and be at most 32 characters"}
	}
	return &engine{db: db, prefix: prefix, stmts: map[string]*sql.Stmt{}}, nil
}

// parseDSN parses a URL or a go-sql-driver DSN (see Open), its table_prefix
// parameter already taken out, into the driver's configuration.
func parseDSN(dataSource string) (cfg *mysql.Config, err error) {
	invalid := func(reason string) error {
		return &persistence.ValidationError{Field: "DSN", Reason: reason}
	}
	if strings.HasPrefix(dataSource, "mysql://") {
		u, err := url.Parse(dataSource)
		if err != nil {
			return nil, invalid(err.Error())
		}
		query, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return nil, invalid(err.Error())
		}
		// Let the driver parse its own parameters.
		if cfg, err = mysql.ParseDSN("/?" + query.Encode()); err != nil {
			return nil, invalid(err.Error())
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
	} else if cfg, err = mysql.ParseDSN(dataSource); err != nil {
		return nil, invalid(err.Error())
	}
	if cfg.DBName == "" {
		return nil, invalid("names no database")
	}
	return cfg, nil
}
