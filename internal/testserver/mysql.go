package testserver

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// mysqlAdmin manages the databases of isolated MySQL tests.
type mysqlAdmin struct {
	base *url.URL
	addr string // host:port
	db   *sql.DB
}

func openMySQL(base string) (admin, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "mysql" {
		return nil, fmt.Errorf("testserver: MySQL URL %q: want mysql://USER[:PASSWORD]@HOST:PORT/", base)
	}
	cfg, err := mysqlConfig(u)
	if err != nil {
		return nil, err
	}
	cfg.DBName = ""
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	db.SetMaxIdleConns(2)
	return &mysqlAdmin{base: u, addr: cfg.Addr, db: db}, nil
}

// mysqlConfig turns mysql://USER[:PASSWORD]@HOST[:PORT]/DB?PARAMS into a driver configuration; the
// query parameters are the driver's DSN parameters.
func mysqlConfig(u *url.URL) (*mysql.Config, error) {
	user, pass := "root", ""
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg, err := mysql.ParseDSN("tcp(" + addr + ")/" + strings.TrimPrefix(u.Path, "/") + "?" + u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("testserver: MySQL URL: %w", err)
	}
	cfg.User, cfg.Passwd = user, pass
	return cfg, nil
}

func (a *mysqlAdmin) ping(ctx context.Context) error {
	// Wait for the server's greeting on a raw connection first: while the server starts, Docker's
	// port proxy accepts and closes connections, and the driver would log every such EOF.
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", a.addr)
	if err != nil {
		return err
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	conn.Close()
	if err != nil {
		return fmt.Errorf("no greeting from %s: %w", a.addr, err)
	}
	var one int
	return a.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

func (a *mysqlAdmin) create(ctx context.Context, name string) error {
	_, err := a.db.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	return err
}

func (a *mysqlAdmin) drop(ctx context.Context, name string) error {
	_, err := a.db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
	return err
}

func (a *mysqlAdmin) isolated(name string) string {
	u := *a.base
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

func (a *mysqlAdmin) close() error { return a.db.Close() }
