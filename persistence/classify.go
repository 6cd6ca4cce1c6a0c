package persistence

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	esdriver "github.com/goeventstore/eventstore/persistence/driver"
)

// known lists the errors an engine may return as they are: the outcomes of
// its rules, the classes, and the portable layer's own.
var known = []error{
	ErrConcurrency, ErrDuplicateCommit, ErrStreamNotFound, ErrSnapshotNotFound,
	ErrStorageUnavailable, ErrPermissionDenied, ErrNotInitialized, ErrMisconfigured, ErrStorage,
	ErrOutcomeUnknown, ErrClosed, ErrInvalid, ErrUnsupported,
}

// isKnown reports whether err already matches one of this package's
// sentinels.
func isKnown(err error) bool {
	for _, k := range known {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// classify gives err, returned by the engine for operation op, its class.
// caller is the caller's context, call the context of the engine call
// (caller's, bounded by the operation timeout).
//
//   - errors that already match a sentinel are returned as they are;
//   - if the caller's context is done, the context's error is wrapped (with
//     the engine's error), so errors.Is finds context.Canceled or
//     context.DeadlineExceeded;
//   - if the operation timeout expired, ErrStorageUnavailable ("no answer
//     within the timeout");
//   - a context.DeadlineExceeded from a driver that gave up just before the
//     caller's deadline passed is the caller's, as if it had passed;
//   - otherwise the engine's ErrorClassifier decides, then the defaults:
//     network errors, a refused or reset connection, an unexpected EOF and
//     database/sql/driver.ErrBadConn are ErrStorageUnavailable; anything
//     else ErrStorage.
func classify(d esdriver.Engine, caller, call context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if isKnown(err) {
		return err
	}
	if cerr := caller.Err(); cerr != nil {
		if errors.Is(err, cerr) {
			return err
		}
		return errors.Join(cerr, err)
	}
	if call.Err() != nil {
		return &classError{class: ErrStorageUnavailable, err: timeoutError{err}}
	}
	if errors.Is(err, context.DeadlineExceeded) && callersDeadline(caller, call) {
		// The driver gave up just before the deadline (the MongoDB driver
		// does when the time left is under a round trip): the caller's.
		return errors.Join(context.DeadlineExceeded, err)
	}
	if c, ok := d.(esdriver.ErrorClassifier); ok {
		if class := c.Classify(err); class != nil {
			return &classError{class: class, err: err}
		}
	}
	return &classError{class: defaultClass(err), err: err}
}

// callersDeadline reports whether the call's deadline is the caller's own
// (the caller's comes before the operation timeout's).
func callersDeadline(caller, call context.Context) bool {
	dl, ok := caller.Deadline()
	if !ok {
		return false
	}
	cdl, _ := call.Deadline()
	return !dl.After(cdl)
}

// defaultClass is the class of an error no classifier claimed.
func defaultClass(err error) error {
	var ne net.Error
	switch {
	case errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, context.DeadlineExceeded):
		return ErrStorageUnavailable
	}
	return ErrStorage
}

// timeoutError says that the operation timeout, not the caller, ended the
// call.
type timeoutError struct{ err error }

func (e timeoutError) Error() string {
	return "no answer within the operation timeout: " + e.err.Error()
}
func (e timeoutError) Unwrap() error { return e.err }
