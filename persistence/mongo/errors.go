package mongo

import (
	"errors"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	mdriver "go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// Server error codes the engine classifies.
const (
	codeUnauthorized         = 13
	codeAuthenticationFailed = 18
	codeNamespaceNotFound    = 26
)

// transientCodes are server errors that a retry on the same client may
// overcome: a primary stepping down or shutting down, a host unreachable.
var transientCodes = []int{
	6,     // HostUnreachable
	7,     // HostNotFound
	89,    // NetworkTimeout
	91,    // ShutdownInProgress
	189,   // PrimarySteppedDown
	262,   // ExceededTimeLimit
	10107, // NotWritablePrimary
	11600, // InterruptedAtShutdown
	11602, // InterruptedDueToReplStateChange
	13435, // NotPrimaryNoSecondaryOk
	13436, // NotPrimaryOrSecondary
}

// Classify implements driver.ErrorClassifier: refused credentials or
// operations are ErrPermissionDenied; server selection failures, network
// errors, timeouts and the transient server errors above are
// ErrStorageUnavailable; a missing collection is ErrNotInitialized. It
// leaves the rest to the portable layer.
func (e *engine) Classify(err error) error {
	var se mongo.ServerError
	isServer := errors.As(err, &se)
	var pe mdriver.RetryablePoolError
	switch {
	case isServer && (se.HasErrorCode(codeUnauthorized) || se.HasErrorCode(codeAuthenticationFailed)):
		return driver.ErrPermissionDenied
	case errors.As(err, &pe):
		// The pool was cleared after another call failed; the driver keeps
		// that failure only in the message.
		if strings.Contains(err.Error(), "(AuthenticationFailed)") || strings.Contains(err.Error(), "(Unauthorized)") {
			return driver.ErrPermissionDenied
		}
		return driver.ErrStorageUnavailable
	case isServer && se.HasErrorCode(codeNamespaceNotFound):
		return driver.ErrNotInitialized
	case errors.As(err, new(topology.ServerSelectionError)),
		mongo.IsNetworkError(err), mongo.IsTimeout(err),
		errors.Is(err, errCheckpointContention):
		return driver.ErrStorageUnavailable
	case isServer:
		for _, c := range transientCodes {
			if se.HasErrorCode(c) {
				return driver.ErrStorageUnavailable
			}
		}
	}
	return nil
}

// dupIndexRe finds the index name in MongoDB's duplicate-key message:
// "E11000 duplicate key error collection: db.commits index: stream_commit dup key: ...".
var dupIndexRe = regexp.MustCompile(`index: (\S+) dup key`)

// duplicateIndex returns the name of the index a duplicate-key error names,
// or "" when the server does not say (FerretDB).
func duplicateIndex(err error) string {
	var we mongo.WriteException
	if errors.As(err, &we) {
		for _, e := range we.WriteErrors {
			if m := dupIndexRe.FindStringSubmatch(e.Message); m != nil {
				return m[1]
			}
		}
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		if m := dupIndexRe.FindStringSubmatch(ce.Message); m != nil {
			return m[1]
		}
	}
	return ""
}
