package mongo

import (
	"errors"
	"regexp"
	"slices"
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
	6, 7, 89, // HostUnreachable, HostNotFound, NetworkTimeout
	91, 189, 262, // ShutdownInProgress, PrimarySteppedDown, ExceededTimeLimit
	10107, 11600, 11602, // NotWritablePrimary, InterruptedAtShutdown, InterruptedDueToReplStateChange
	13435, 13436, // NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary
}

// Classify implements driver.ErrorClassifier: refused credentials or
// operations are ErrPermissionDenied; server selection failures, network
// errors, timeouts and the transient server errors above are
// ErrStorageUnavailable; a missing collection is ErrNotInitialized. It
// leaves the rest to the portable layer.
func (e *engine) Classify(err error) error {
	se, isServer := errors.AsType[mongo.ServerError](err)
	switch {
	case isServer && (se.HasErrorCode(codeUnauthorized) || se.HasErrorCode(codeAuthenticationFailed)):
		return driver.ErrPermissionDenied
	case errors.As(err, new(mdriver.RetryablePoolError)):
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
	case isServer && slices.ContainsFunc(transientCodes, se.HasErrorCode):
		return driver.ErrStorageUnavailable
	}
	return nil
}

// dupIndexRe finds the index name in MongoDB's duplicate-key message:
// "E11000 duplicate key error collection: db.commits index: stream_commit dup key: ...".
var dupIndexRe = regexp.MustCompile(`index: (\S+) dup key`)

// duplicateIndex returns the name of the index a duplicate-key error names,
// or "" when the server does not say (FerretDB). The server's message is
// part of the text of the driver's WriteException and CommandError alike.
func duplicateIndex(err error) string {
	if m := dupIndexRe.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}
