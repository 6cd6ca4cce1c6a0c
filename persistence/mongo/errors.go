package mongo

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/goeventstore/eventstore/persistence"
)

// storageError turns a driver error into the engine's: the context's own
// error when ctx is done, nil for nil, and otherwise an error matching
// persistence.ErrStorageUnavailable and the driver's error. Server selection
// failures, network errors and timeouts all land here; so does any other
// failure of the server, which a caller can only retry.
func storageError(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, persistence.ErrClosed) || errors.Is(err, persistence.ErrStorageUnavailable) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("eventstore: %s: %w", op, errors.Join(cerr, err))
	}
	if errors.Is(err, mongo.ErrClientDisconnected) {
		return fmt.Errorf("eventstore: %s: %w", op, persistence.ErrClosed)
	}
	return persistence.Unavailable(op, err)
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

// isCursorNotFound reports whether the server no longer knows a cursor.
func isCursorNotFound(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(43)
}
