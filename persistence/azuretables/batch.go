package azuretables

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// tx is an entity group transaction being built: operations on ONE
// partition, at most 100 of them and 4 MiB of body. The checks that Azure
// makes and Azurite does not are made here, so that a batch the engine
// sends works on both.
type tx struct {
	pk   string
	ops  []op
	size int
}

// op is one operation of a tx: its kind, the entity (JSON, as ent builds
// it) and its If-Match condition ("" for none).
type op struct {
	kind    aztables.TransactionType
	entity  []byte
	ifMatch azcore.ETag
}

var etagAny = azcore.ETagAny

// add adds an operation on entity (built by newEnt) to t.
func (t *tx) add(kind aztables.TransactionType, pk string, entity []byte, ifMatch *azcore.ETag) {
	if t.pk == "" {
		t.pk = pk
	}
	if pk != t.pk {
		panic(fmt.Sprintf("azuretables: batch on partition %q got an operation on %q", t.pk, pk))
	}
	o := op{kind: kind, entity: entity}
	if ifMatch != nil {
		o.ifMatch = *ifMatch
	}
	t.ops = append(t.ops, o)
	t.size += len(entity) + 512 // the operation's headers
}

// check reports whether t may be sent to Azure.
func (t *tx) check() error {
	switch {
	case len(t.ops) == 0:
		return errors.New("azuretables: empty batch")
	case len(t.ops) > maxBatchOps:
		return fmt.Errorf("azuretables: batch of %d operations, over Azure's %d", len(t.ops), maxBatchOps)
	case t.size > maxBatchBody:
		return fmt.Errorf("azuretables: batch of %d bytes, over Azure's %d", t.size, maxBatchBody)
	}
	return nil
}

// actions returns t's operations as the SDK takes them.
func (t *tx) actions() []aztables.TransactionAction {
	out := make([]aztables.TransactionAction, len(t.ops))
	for i, o := range t.ops {
		out[i] = aztables.TransactionAction{ActionType: o.kind, Entity: o.entity}
		if o.ifMatch != "" {
			out[i].IfMatch = &t.ops[i].ifMatch
		}
	}
	return out
}

// submit sends t: through the engine's wire if it has one, else through
// the SDK's SubmitTransaction. Either way a refused batch is a *BatchError.
func (e *engine) submit(ctx context.Context, t *tx) error {
	if err := t.check(); err != nil {
		return err
	}
	if e.wire != nil {
		return e.wire.submit(ctx, t)
	}
	_, err := e.table.SubmitTransaction(ctx, t.actions(), nil)
	if err == nil {
		return nil
	}
	return batchFailure(err)
}

// BatchError is a failed entity group transaction: the status and error
// code of the operation that failed, and its index in the batch (-1 if the
// service did not say). The SDK reports such a failure as a
// *azcore.ResponseError with status 202 and no error code; BatchError is
// what the multipart body says (see ParseBatchResponse).
type BatchError struct {
	Status  int
	Code    string
	Index   int
	Message string
	Err     error // the SDK's error
}

func (b *BatchError) Error() string {
	return fmt.Sprintf("azuretables: batch failed at operation %d: %d %s: %s", b.Index, b.Status, b.Code, b.Message)
}

func (b *BatchError) Unwrap() error { return b.Err }

// batchFailure returns err as a *BatchError if it is a failed batch whose
// body names the failure, else err.
func batchFailure(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.RawResponse == nil {
		return err
	}
	body, perr := runtime.Payload(re.RawResponse)
	if perr != nil {
		return err
	}
	status, code, index, msg, ok := ParseBatchResponse(body)
	if !ok {
		if re.StatusCode >= 400 {
			return &BatchError{Status: re.StatusCode, Code: re.ErrorCode, Index: -1, Err: err}
		}
		return err
	}
	if status == 0 {
		status = re.StatusCode
	}
	return &BatchError{Status: status, Code: code, Index: index, Message: msg, Err: err}
}

// ParseBatchResponse reads the body of a failed batch: a multipart response
// whose changeset holds the failing operation's HTTP response, or a bare
// JSON error when the service refused the batch as a whole (status 0 then:
// the outer status applies). It returns the inner status, the OData error
// code, the operation's index from the message's "N:" prefix (-1 if
// absent) and the message; ok is false if body holds no error.
func ParseBatchResponse(body []byte) (status int, code string, index int, msg string, ok bool) {
	index = -1
	rest := body
	if i := bytes.Index(body, []byte("HTTP/1.1 ")); i >= 0 {
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(body[i:])), nil)
		if err != nil {
			return 0, "", -1, "", false
		}
		status = resp.StatusCode
		resp.Body.Close()
		rest = body[i:]
		if status < 300 {
			return status, "", -1, "", false
		}
	}
	j := bytes.IndexByte(rest, '{')
	if j < 0 {
		return status, "", -1, "", status >= 300
	}
	var doc struct {
		Err struct {
			Code    string `json:"code"`
			Message struct {
				Value string `json:"value"`
			} `json:"message"`
		} `json:"odata.error"`
	}
	if err := json.NewDecoder(bytes.NewReader(rest[j:])).Decode(&doc); err != nil {
		return status, "", -1, "", status >= 300
	}
	code, msg = doc.Err.Code, doc.Err.Message.Value
	if k := indexPrefix(msg); k >= 0 {
		index = k
	}
	return status, code, index, msg, status >= 300 || code != ""
}

// indexPrefix returns N of a message "N:text", or -1.
func indexPrefix(msg string) int {
	i := 0
	for i < len(msg) && msg[i] >= '0' && msg[i] <= '9' {
		i++
	}
	if i == 0 || i >= len(msg) || msg[i] != ':' {
		return -1
	}
	n, err := strconv.Atoi(msg[:i])
	if err != nil {
		return -1
	}
	return n
}

// isConflict reports whether err says the data refused the operation (an
// entity exists, is missing or changed), not that the request failed.
func isConflict(err error) bool {
	var be *BatchError
	if errors.As(err, &be) {
		switch be.Status {
		case http.StatusConflict, http.StatusNotFound, http.StatusPreconditionFailed:
			return be.Code != string(aztables.TableNotFound)
		}
		return false
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusConflict, http.StatusNotFound, http.StatusPreconditionFailed:
			return re.ErrorCode != string(aztables.TableNotFound)
		}
	}
	return false
}

// status returns the HTTP status and error code err carries, or 0.
func status(err error) (int, string) {
	var be *BatchError
	if errors.As(err, &be) {
		return be.Status, be.Code
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, re.ErrorCode
	}
	return 0, ""
}

func isNotFound(err error) bool {
	s, c := status(err)
	return s == http.StatusNotFound && c != string(aztables.TableNotFound)
}

func isExists(err error) bool {
	s, _ := status(err)
	return s == http.StatusConflict
}
