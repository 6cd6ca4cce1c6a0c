package mongo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/driver"
)

// Nothing listens on the port: every call fails with ErrStorageUnavailable
// within the operation timeout, also Initialize, whose own timeout is a
// minute: the driver gives up server selection by itself.
func TestClassifyUnreachable(t *testing.T) {
	ctx := context.Background()
	d, s, err := open("mongodb://127.0.0.1:1/db", persistence.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e := persistence.NewEngineWithSettings("mongodb", d, s)
	defer e.Close(ctx)
	t0 := time.Now()
	if err := e.Initialize(ctx); !errors.Is(err, persistence.ErrStorageUnavailable) {
		t.Errorf("Initialize: %v, want ErrStorageUnavailable", err)
	}
	if took := time.Since(t0); took > 3*time.Second {
		t.Errorf("Initialize failed after %v, want about the 1s server selection timeout", took)
	}
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); !errors.Is(err, persistence.ErrStorageUnavailable) {
		t.Errorf("Commit: %v, want ErrStorageUnavailable", err)
	}
	for _, err := range e.ReadStream(ctx, "b", "s", 0, 0) {
		if !errors.Is(err, persistence.ErrStorageUnavailable) {
			t.Errorf("ReadStream: %v, want ErrStorageUnavailable", err)
		}
	}
	// The driver's own error, as the engine returns it.
	_, err = d.ReadStream(ctx, driver.StreamQuery{BucketID: "b", StreamID: "s", MinRevision: 1, MaxRevision: 1, Limit: 1})
	if !errors.As(err, new(topology.ServerSelectionError)) || d.Classify(err) != driver.ErrStorageUnavailable {
		t.Errorf("driver error %v (%T) classified %v", err, err, d.Classify(err))
	}
}

// Before Initialize the commits collection lacks its unique indexes, and
// Commit refuses to create it without them.
func TestClassifyNotInitialized(t *testing.T) { eachServer(t, testClassifyNotInitialized) }

func testClassifyNotInitialized(t *testing.T) {
	ctx := context.Background()
	url := isolatedURL(t)
	e, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); !errors.Is(err, persistence.ErrNotInitialized) {
		t.Fatalf("Commit before Initialize: %v, want ErrNotInitialized", err)
	}
	for c, err := range e.ReadAll(ctx, 0) {
		t.Fatalf("ReadAll before Initialize yielded %v, %v", c, err)
	}
	if err := e.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); err != nil {
		t.Fatalf("Commit after Initialize: %v", err)
	}
	// After Drop, again.
	if err := e.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); !errors.Is(err, persistence.ErrNotInitialized) {
		t.Fatalf("Commit after Drop: %v, want ErrNotInitialized", err)
	}

	// The server's NamespaceNotFound (here from dropIndexes on a missing
	// collection) is ErrNotInitialized.
	var db *mongo.Database
	e.As(&db)
	err = db.RunCommand(ctx, bson.D{{Key: "dropIndexes", Value: "missing"}, {Key: "index", Value: "x"}}).Err()
	if got := (&engine{}).Classify(err); got != driver.ErrNotInitialized {
		t.Errorf("%v classified %v, want ErrNotInitialized", err, got)
	}
}

// Credentials the server refuses are ErrPermissionDenied. FerretDB refuses
// every credential (it has no SCRAM without its optional authentication
// layer) with AuthenticationFailed, the same code MongoDB sends for a
// wrong password; it has no users or roles, so Unauthorized (13) cannot
// be produced there and is checked on a constructed error.
func TestClassifyPermissionDenied(t *testing.T) { eachServer(t, testClassifyPermissionDenied) }

func testClassifyPermissionDenied(t *testing.T) {
	ctx := context.Background()
	url := strings.Replace(isolatedURL(t), "mongodb://", "mongodb://nobody:wrong@", 1)
	e, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if err := e.Initialize(ctx); !errors.Is(err, persistence.ErrPermissionDenied) {
		t.Errorf("Initialize with refused credentials: %v, want ErrPermissionDenied", err)
	}
	if _, err := e.Commit(ctx, attempt("b", "s", 1)); !errors.Is(err, persistence.ErrPermissionDenied) {
		t.Errorf("Commit with refused credentials: %v, want ErrPermissionDenied", err)
	}
	unauthorized := mongo.CommandError{Code: 13, Name: "Unauthorized", Message: "not authorized on db to execute command"}
	if got := (&engine{}).Classify(unauthorized); got != driver.ErrPermissionDenied {
		t.Errorf("Unauthorized classified %v", got)
	}
}

// Errors the engine does not know are left to the portable layer; server
// errors that a retry overcomes are ErrStorageUnavailable.
func TestClassifyOthers(t *testing.T) {
	var e engine
	for _, tt := range []struct{ err, want error }{
		{mongo.CommandError{Code: 2, Name: "BadValue"}, nil},
		{mongo.CommandError{Code: 10107, Name: "NotWritablePrimary"}, driver.ErrStorageUnavailable},
		{mongo.CommandError{Code: 1, Labels: []string{"NetworkError"}}, driver.ErrStorageUnavailable},
		{errors.Join(errors.New("commit"), errCheckpointContention), driver.ErrStorageUnavailable},
		{errors.New("something else"), nil},
		{poolCleared("connection pool was cleared because another operation failed with: EOF"), driver.ErrStorageUnavailable},
		{poolCleared("connection pool was cleared because another operation failed with: auth error: (AuthenticationFailed) no"), driver.ErrPermissionDenied},
		{mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 13}}}, driver.ErrPermissionDenied},
		{mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 121}}}, nil},
		{context.DeadlineExceeded, driver.ErrStorageUnavailable},
	} {
		if got := e.Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// poolCleared stands for the driver's unexported poolClearedError, which
// keeps the failure that cleared the pool only in its message.
type poolCleared string

func (p poolCleared) Error() string { return string(p) }
func (poolCleared) Retryable() bool { return true }

// MongoDB names the index of a duplicate key in its message, in a write
// error of an insert or in a command error; FerretDB names none.
func TestDuplicateIndex(t *testing.T) {
	const msg = "E11000 duplicate key error collection: db.commits index: stream_commit dup key: { key: \"ab\", commitId: 1 }"
	for _, tt := range []struct {
		err  error
		want string
	}{
		{mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: msg}}}, "stream_commit"},
		{mongo.CommandError{Code: 11000, Message: strings.Replace(msg, "stream_commit", "_id_", 1)}, "_id_"},
		{mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: "E11000 duplicate key error"}}}, ""},
	} {
		if got := duplicateIndex(tt.err); got != tt.want {
			t.Errorf("duplicateIndex(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
