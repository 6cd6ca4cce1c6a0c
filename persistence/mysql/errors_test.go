package mysql

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"

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

func TestFail(t *testing.T) {
	err := fail(context.Background(), "commit", mysql.ErrInvalidConn)
	if !errors.Is(err, persistence.ErrStorageUnavailable) || !errors.Is(err, mysql.ErrInvalidConn) {
		t.Fatalf("fail(ErrInvalidConn) = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = fail(ctx, "commit", mysql.ErrInvalidConn)
	if !errors.Is(err, context.Canceled) || errors.Is(err, persistence.ErrStorageUnavailable) {
		t.Fatalf("fail after cancel = %v, want context.Canceled", err)
	}
}
