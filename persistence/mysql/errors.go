package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/goeventstore/eventstore/persistence"
)

// Server error numbers the engine acts on.
const (
	errDupEntry = 1062 // ER_DUP_ENTRY: a unique key refused the row
)

// fail turns a driver error into the engine's error for op: the context's
// error if ctx is done, otherwise ErrStorageUnavailable wrapping err.
//
// Every failure to reach or use the server is ErrStorageUnavailable: the
// connection refused or reset, driver.ErrBadConn, mysql.ErrInvalidConn, the
// server gone away (2006, 2013), timeouts, and server-side errors too (a
// lock wait timeout, a missing table before Initialize). database/sql
// discards broken connections and dials anew, so the same engine works again
// once the server is back.
func fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		if errors.Is(err, cerr) {
			return fmt.Errorf("eventstore: mysql %s: %w", op, err)
		}
		return fmt.Errorf("eventstore: mysql %s: %w (%w)", op, cerr, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("eventstore: mysql %s: %w", op, err)
	}
	return persistence.Unavailable("mysql "+op, err)
}

// dupKey reports whether err is a duplicate-key error and, if the server
// named it, the key: "PRIMARY", "ux_sequence", "ux_commit_id", or "" when
// the message is not in the expected (English) form.
func dupKey(err error) (key string, ok bool) {
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != errDupEntry {
		return "", false
	}
	// MariaDB: "Duplicate entry '...' for key 'ux_sequence'";
	// MySQL 8:  "Duplicate entry '...' for key 'eventstore_commits.ux_sequence'".
	msg := me.Message
	i := strings.LastIndex(msg, " for key '")
	if i < 0 || !strings.HasSuffix(msg, "'") {
		return "", true
	}
	key = msg[i+len(" for key '") : len(msg)-1]
	if j := strings.LastIndexByte(key, '.'); j >= 0 {
		key = key[j+1:]
	}
	return key, true
}
