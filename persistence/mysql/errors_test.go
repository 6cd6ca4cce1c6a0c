package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	neturl "net/url"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

func TestDupKey(t *testing.T) {
	for _, tc := range []struct {
		msg, key string
	}{
		{"Duplicate entry '\x01\x02' for key 'ux_sequence'", keySequence},                   // MariaDB
		{"Duplicate entry '\x01-x' for key 'eventstore_commits.ux_commit_id'", keyCommitID}, // MySQL 8
		{"Duplicate entry '41' for key 'PRIMARY'", keyPrimary},                              // MariaDB
		{"Duplicate entry '41' for key 'es_commits.PRIMARY'", keyPrimary},                   // MySQL 8
		{"Duplicate entry 'for key 'x'' for key 'ux_sequence'", keySequence},                // quotes in the entry
		{"Doppelter Eintrag '41' für Schlüssel 'PRIMARY'", ""},                              // translated: unknown
	} {
		key, ok := dupKey(fmt.Errorf("wrapped: %w", &mysql.MySQLError{Number: 1062, Message: tc.msg}))
		if !ok || key != tc.key {
			t.Errorf("dupKey(%q) = %q, %v; want %q", tc.msg, key, ok, tc.key)
		}
	}
	if _, ok := dupKey(&mysql.MySQLError{Number: 1205, Message: "Lock wait timeout exceeded"}); ok {
		t.Error("1205 taken for a duplicate key")
	}
}

func TestClassify(t *testing.T) {
	e := &engine{}
	for _, tc := range []struct {
		err  error
		want error
	}{
		{&mysql.MySQLError{Number: 1045}, persistence.ErrPermissionDenied},
		{&mysql.MySQLError{Number: 1142}, persistence.ErrPermissionDenied},
		{&mysql.MySQLError{Number: 1044}, persistence.ErrPermissionDenied},
		{&mysql.MySQLError{Number: 1146}, persistence.ErrNotInitialized},
		{&mysql.MySQLError{Number: 1049}, persistence.ErrMisconfigured},
		{&mysql.MySQLError{Number: 1290}, persistence.ErrMisconfigured},
		{&mysql.MySQLError{Number: 1040}, persistence.ErrStorageUnavailable},
		{&mysql.MySQLError{Number: 1205}, persistence.ErrStorageUnavailable},
		{&mysql.MySQLError{Number: 1213}, persistence.ErrStorageUnavailable},
		{&mysql.MySQLError{Number: 1053}, persistence.ErrStorageUnavailable},
		{fmt.Errorf("wrapped: %w", mysql.ErrInvalidConn), persistence.ErrStorageUnavailable},
		{mysql.ErrPktTooLarge, persistence.ErrMisconfigured},
		{&mysql.MySQLError{Number: 1064}, nil}, // a syntax error: the portable default
		{errors.New("other"), nil},
	} {
		if got := e.Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A table dropped under an open engine: ErrNotInitialized, as before
// Initialize; Initialize makes the engine work again.
func TestErrorNotInitialized(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		url := isolatedURL(t, kind)
		e, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close(ctx)
		if _, err := e.Commit(ctx, attempt("b", "s", 1)); !errors.Is(err, persistence.ErrNotInitialized) {
			t.Fatalf("Commit before Initialize: %v, want ErrNotInitialized", err)
		}
		if err := e.Initialize(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := poolOf(t, e).Exec("DROP TABLE eventstore_commits"); err != nil {
			t.Fatal(err)
		}
		_, err = e.Commit(ctx, attempt("b", "s", 1))
		if !errors.Is(err, persistence.ErrNotInitialized) || errors.Is(err, persistence.ErrStorage) {
			t.Fatalf("Commit on a dropped table: %v, want ErrNotInitialized only", err)
		}
		for _, err := range e.ReadAll(ctx, 0) {
			if !errors.Is(err, persistence.ErrNotInitialized) {
				t.Fatalf("ReadAll on a dropped table: %v, want ErrNotInitialized", err)
			}
		}
		if _, err := e.Head(ctx); !errors.Is(err, persistence.ErrNotInitialized) {
			t.Fatalf("Head on a dropped table: %v, want ErrNotInitialized", err)
		}
		if err := e.Initialize(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
			t.Fatalf("Commit after Initialize: %v", err)
		}
	})
}

// A database that does not exist: ErrMisconfigured.
func TestErrorUnknownDatabase(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		url := isolatedURL(t, kind)
		e, err := Open(ctx, url+"_missing")
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close(ctx)
		if err := e.Initialize(ctx); !errors.Is(err, persistence.ErrMisconfigured) {
			t.Fatalf("Initialize: %v, want ErrMisconfigured", err)
		}
		if _, err := e.Commit(ctx, attempt("b", "s", 1)); !errors.Is(err, persistence.ErrMisconfigured) {
			t.Fatalf("Commit: %v, want ErrMisconfigured", err)
		}
	})
}

// A user who may only read, and a wrong password: ErrPermissionDenied. It
// runs on a server of its own, since it may turn the grant tables on (see
// enableGrants).
func TestErrorPermissionDenied(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		srv := testserver.Dedicated(t, kind)
		rootURL := srv.Isolated(t)
		root := openIsolated(t, rootURL)
		c, err := root.Commit(ctx, attempt("b", "s", 1))
		if err != nil {
			t.Fatal(err)
		}
		db := poolOf(t, root)
		enableGrants(t, db)
		u, err := neturl.Parse(rootURL)
		if err != nil {
			t.Fatal(err)
		}
		dbName := strings.TrimPrefix(u.Path, "/")
		for _, stmt := range []string{
			"CREATE USER 'es_reader'@'%' IDENTIFIED BY 'pw'",
			"GRANT SELECT ON `" + dbName + "`.* TO 'es_reader'@'%'",
		} {
			if _, err := db.Exec(stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}

		u.User = neturl.UserPassword("es_reader", "pw")
		reader, err := Open(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		defer reader.Close(ctx)
		// Reads work; writes are refused.
		var n int
		for got, err := range reader.ReadStream(ctx, "b", "s", 0, 0) {
			if err != nil || got.Checkpoint != c.Checkpoint {
				t.Fatalf("ReadStream as a reader: %v, %v", got.Checkpoint, err)
			}
			n++
		}
		if n != 1 {
			t.Fatalf("reader read %d commits", n)
		}
		_, err = reader.Commit(ctx, attempt("b", "s", 2))
		if !errors.Is(err, persistence.ErrPermissionDenied) || errors.Is(err, persistence.ErrStorage) {
			t.Fatalf("Commit without INSERT: %v, want ErrPermissionDenied only", err)
		}
		if err := reader.Initialize(ctx); !errors.Is(err, persistence.ErrPermissionDenied) {
			t.Fatalf("Initialize without CREATE: %v, want ErrPermissionDenied", err)
		}
		if err := reader.MarkDispatched(ctx, c); !errors.Is(err, persistence.ErrPermissionDenied) {
			t.Fatalf("MarkDispatched without UPDATE: %v, want ErrPermissionDenied", err)
		}

		u.User = neturl.UserPassword("es_reader", "wrong")
		bad, err := Open(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Close(ctx)
		if _, err := bad.Head(ctx); !errors.Is(err, persistence.ErrPermissionDenied) {
			t.Fatalf("Head with a wrong password: %v, want ErrPermissionDenied", err)
		}
	})
}

// enableGrants makes the server check privileges. MySQL does already. The
// MariaDB substitute of the tests runs with --skip-grant-tables on an empty
// data directory: CREATE USER fails there with 1290, and FLUSH PRIVILEGES
// turns privilege checking on but needs the grant tables, which do not
// exist. So it creates them (the definitions of MariaDB 10.11's
// mysql_system_tables.sql), gives root@'%' every privilege (root connects
// without a password, as before), and flushes.
func enableGrants(t *testing.T, db *sql.DB) {
	t.Helper()
	_, err := db.Exec("CREATE USER 'es_probe'@'%'")
	if err == nil {
		if _, err := db.Exec("DROP USER 'es_probe'@'%'"); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !isServerError(err, 1290) {
		t.Fatalf("CREATE USER: %v", err)
	}
	const host, user = "Host char(255) binary DEFAULT '' NOT NULL, ", "User char(128) binary DEFAULT '' NOT NULL, "
	const yn = " enum('N','Y') COLLATE utf8mb3_general_ci DEFAULT 'N' NOT NULL, "
	dbPrivs := ""
	for _, p := range strings.Fields("Select Insert Update Delete Create Drop Grant References Index Alter Create_tmp_table " +
		"Lock_tables Create_view Show_view Create_routine Alter_routine Execute Event Trigger Delete_history") {
		dbPrivs += p + "_priv" + yn
	}
	const opts = " engine=Aria transactional=1 CHARACTER SET utf8mb3 COLLATE utf8mb3_bin"
	for _, stmt := range []string{
		"CREATE DATABASE IF NOT EXISTS mysql",
		"CREATE TABLE IF NOT EXISTS mysql.global_priv (Host char(255) binary DEFAULT '', User char(128) binary DEFAULT '', " +
			"Priv JSON NOT NULL DEFAULT '{}' CHECK(JSON_VALID(Priv)), PRIMARY KEY (Host,User))" + opts,
		"CREATE TABLE IF NOT EXISTS mysql.db (" + host + "Db char(64) binary DEFAULT '' NOT NULL, " + user + dbPrivs +
			"PRIMARY KEY (Host,Db,User), KEY User (User))" + opts,
		"CREATE TABLE IF NOT EXISTS mysql.tables_priv (" + host + "Db char(64) binary DEFAULT '' NOT NULL, " + user +
			"Table_name char(64) binary DEFAULT '' NOT NULL, Grantor varchar(384) DEFAULT '' NOT NULL, " +
			"Timestamp timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, " +
			"Table_priv set('Select','Insert','Update','Delete','Create','Drop','Grant','References','Index','Alter','Create View','Show view','Trigger','Delete versioning rows') COLLATE utf8mb3_general_ci DEFAULT '' NOT NULL, " +
			"Column_priv set('Select','Insert','Update','References') COLLATE utf8mb3_general_ci DEFAULT '' NOT NULL, " +
			"PRIMARY KEY (Host,Db,User,Table_name), KEY Grantor (Grantor))" + opts,
		"CREATE TABLE IF NOT EXISTS mysql.columns_priv (" + host + "Db char(64) binary DEFAULT '' NOT NULL, " + user +
			"Table_name char(64) binary DEFAULT '' NOT NULL, Column_name char(64) binary DEFAULT '' NOT NULL, " +
			"Timestamp timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, " +
			"Column_priv set('Select','Insert','Update','References') COLLATE utf8mb3_general_ci DEFAULT '' NOT NULL, " +
			"PRIMARY KEY (Host,Db,User,Table_name,Column_name))" + opts,
		"CREATE TABLE IF NOT EXISTS mysql.procs_priv (" + host + "Db char(64) binary DEFAULT '' NOT NULL, " + user +
			"Routine_name char(64) COLLATE utf8mb3_general_ci DEFAULT '' NOT NULL, " +
			"Routine_type enum('FUNCTION','PROCEDURE','PACKAGE','PACKAGE BODY') NOT NULL, Grantor varchar(384) DEFAULT '' NOT NULL, " +
			"Proc_priv set('Execute','Alter Routine','Grant') COLLATE utf8mb3_general_ci DEFAULT '' NOT NULL, " +
			"Timestamp timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, " +
			"PRIMARY KEY (Host,Db,User,Routine_name,Routine_type), KEY Grantor (Grantor))" + opts,
		"CREATE TABLE IF NOT EXISTS mysql.proxies_priv (" + host + user +
			"Proxied_host char(255) binary DEFAULT '' NOT NULL, Proxied_user char(128) binary DEFAULT '' NOT NULL, " +
			"With_grant BOOL DEFAULT 0 NOT NULL, Grantor varchar(384) DEFAULT '' NOT NULL, " +
			"Timestamp timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, " +
			"PRIMARY KEY (Host,User,Proxied_host,Proxied_user), KEY Grantor (Grantor))" + opts,
		"CREATE TABLE IF NOT EXISTS mysql.roles_mapping (" + host + user + "Role char(128) binary DEFAULT '' NOT NULL, " +
			"Admin_option" + yn + "UNIQUE (Host, User, Role))" + opts,
		"CREATE TABLE IF NOT EXISTS mysql.servers (Server_name char(64) NOT NULL DEFAULT '', Host varchar(2048) NOT NULL DEFAULT '', " +
			"Db char(64) NOT NULL DEFAULT '', Username char(128) NOT NULL DEFAULT '', Password char(64) NOT NULL DEFAULT '', " +
			"Port INT(4) NOT NULL DEFAULT '0', Socket char(108) NOT NULL DEFAULT '', Wrapper char(64) NOT NULL DEFAULT '', " +
			"Owner varchar(512) NOT NULL DEFAULT '', PRIMARY KEY (Server_name)) engine=Aria transactional=1 CHARACTER SET utf8mb3",
		// Every privilege bit, with grant option.
		`INSERT IGNORE INTO mysql.global_priv VALUES ('%', 'root', '{"access": 18446744073709551615}')`,
		"FLUSH PRIVILEGES",
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%.60s: %v", stmt, err)
		}
	}
}
