package mysql

import (
	"errors"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Server error numbers the engine acts on.
const (
	errDupEntry  = 1062 // ER_DUP_ENTRY: a unique key refused the row
	errDupColumn = 1060 // ER_DUP_FIELDNAME: a migration's column exists already
)

// classes maps server error numbers to error classes. Numbers not listed
// are left to the portable layer's defaults (ErrStorage).
var classes = map[uint16]error{
	// The credentials or the grants: fix them.
	1044: driver.ErrPermissionDenied, // ER_DBACCESS_DENIED_ERROR
	1045: driver.ErrPermissionDenied, // ER_ACCESS_DENIED_ERROR
	1130: driver.ErrPermissionDenied, // ER_HOST_NOT_PRIVILEGED
	1142: driver.ErrPermissionDenied, // ER_TABLEACCESS_DENIED_ERROR
	1143: driver.ErrPermissionDenied, // ER_COLUMNACCESS_DENIED_ERROR
	1227: driver.ErrPermissionDenied, // ER_SPECIFIC_ACCESS_DENIED_ERROR
	1370: driver.ErrPermissionDenied, // ER_PROCACCESS_DENIED_ERROR
	1698: driver.ErrPermissionDenied, // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
	1862: driver.ErrPermissionDenied, // ER_MUST_CHANGE_PASSWORD_LOGIN
	3118: driver.ErrPermissionDenied, // ER_ACCOUNT_HAS_BEEN_LOCKED (MySQL)
	4151: driver.ErrPermissionDenied, // ER_ACCOUNT_HAS_BEEN_LOCKED (MariaDB)

	// Tables missing or older than the code: run Initialize (which
	// migrates).
	1146: driver.ErrNotInitialized, // ER_NO_SUCH_TABLE
	1054: driver.ErrNotInitialized, // ER_BAD_FIELD_ERROR: a column a migration adds

	// The configuration names what cannot work.
	1049: driver.ErrMisconfigured, // ER_BAD_DB_ERROR: unknown database
	1046: driver.ErrMisconfigured, // ER_NO_DB_ERROR
	1115: driver.ErrMisconfigured, // ER_UNKNOWN_CHARACTER_SET
	1273: driver.ErrMisconfigured, // ER_UNKNOWN_COLLATION
	1286: driver.ErrMisconfigured, // ER_UNKNOWN_STORAGE_ENGINE
	1193: driver.ErrMisconfigured, // ER_UNKNOWN_SYSTEM_VARIABLE (a DSN parameter)
	1231: driver.ErrMisconfigured, // ER_WRONG_VALUE_FOR_VAR (a DSN parameter)
	1153: driver.ErrMisconfigured, // ER_NET_PACKET_TOO_LARGE: max_allowed_packet below a 4 MiB payload
	1290: driver.ErrMisconfigured, // ER_OPTION_PREVENTS_STATEMENT: --read-only, a replica
	1836: driver.ErrMisconfigured, // ER_READ_ONLY_MODE (MariaDB)
	1792: driver.ErrMisconfigured, // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION

	// Transient: the same call may succeed later on the same pool.
	1040: driver.ErrStorageUnavailable, // ER_CON_COUNT_ERROR: too many connections
	1203: driver.ErrStorageUnavailable, // ER_TOO_MANY_USER_CONNECTIONS
	1226: driver.ErrStorageUnavailable, // ER_USER_LIMIT_REACHED
	1037: driver.ErrStorageUnavailable, // ER_OUTOFMEMORY
	1038: driver.ErrStorageUnavailable, // ER_OUT_OF_SORTMEMORY
	1041: driver.ErrStorageUnavailable, // ER_OUT_OF_RESOURCES
	1053: driver.ErrStorageUnavailable, // ER_SERVER_SHUTDOWN
	1152: driver.ErrStorageUnavailable, // ER_ABORTING_CONNECTION
	1158: driver.ErrStorageUnavailable, // ER_NET_READ_ERROR
	1159: driver.ErrStorageUnavailable, // ER_NET_READ_INTERRUPTED
	1160: driver.ErrStorageUnavailable, // ER_NET_ERROR_ON_WRITE
	1161: driver.ErrStorageUnavailable, // ER_NET_WRITE_INTERRUPTED
	1205: driver.ErrStorageUnavailable, // ER_LOCK_WAIT_TIMEOUT
	1213: driver.ErrStorageUnavailable, // ER_LOCK_DEADLOCK
	1317: driver.ErrStorageUnavailable, // ER_QUERY_INTERRUPTED
	1927: driver.ErrStorageUnavailable, // ER_CONNECTION_KILLED (MariaDB)
	1969: driver.ErrStorageUnavailable, // ER_STATEMENT_TIMEOUT (MariaDB)
	3024: driver.ErrStorageUnavailable, // ER_QUERY_TIMEOUT (MySQL)
	4031: driver.ErrStorageUnavailable, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL)
	2006: driver.ErrStorageUnavailable, // CR_SERVER_GONE_ERROR
	2013: driver.ErrStorageUnavailable, // CR_SERVER_LOST
}

// Classify implements driver.ErrorClassifier: server errors by number (see
// classes), the driver's connection errors as ErrStorageUnavailable and its
// configuration errors as ErrMisconfigured. Anything else is left to the
// portable layer (network errors are ErrStorageUnavailable there, the rest
// ErrStorage).
func (e *engine) Classify(err error) error {
	if me, ok := errors.AsType[*mysql.MySQLError](err); ok {
		return classes[me.Number]
	}
	switch {
	case errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, mysql.ErrMalformPkt),
		errors.Is(err, mysql.ErrBusyBuffer):
		return driver.ErrStorageUnavailable
	case errors.Is(err, mysql.ErrPktTooLarge), errors.Is(err, mysql.ErrNoTLS),
		errors.Is(err, mysql.ErrNativePassword), errors.Is(err, mysql.ErrOldPassword),
		errors.Is(err, mysql.ErrCleartextPassword), errors.Is(err, mysql.ErrUnknownPlugin),
		errors.Is(err, mysql.ErrOldProtocol):
		return driver.ErrMisconfigured
	}
	return nil
}

// dupKey reports whether err is a duplicate-key error and, if the server
// named it, the key: "PRIMARY", "ux_sequence", "ux_commit_id", or "" when
// the message is not in the expected (English) form.
func dupKey(err error) (key string, ok bool) {
	me, ok := errors.AsType[*mysql.MySQLError](err)
	if !ok || me.Number != errDupEntry {
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

// isServerError reports whether err is the server error number.
func isServerError(err error, number uint16) bool {
	me, ok := errors.AsType[*mysql.MySQLError](err)
	return ok && me.Number == number
}
