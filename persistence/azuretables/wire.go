package azuretables

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// wire sends the engine's entity group transactions itself, as the REST
// API describes them ("Performing entity group transactions"), through an
// azcore pipeline built from the same client options as the SDK client
// (transport, retries, logging) with the same credential.
//
// The SDK's SubmitTransaction decodes every entity's JSON into a map and
// encodes it again, builds a generated request per operation and parses
// the multipart answer part by part: most of the client's CPU time of a
// commit. The engine's entities are JSON already (see ent), so the body is
// a few appends per operation. Open builds a wire when it knows the
// credential (an account key, or none); an engine made by New from the
// caller's client, or on a Cosmos DB endpoint, sends its batches through
// the SDK.
type wire struct {
	pl    runtime.Pipeline
	batch string // the $batch URL, with the SAS query if any
	table string // the table's URL as the operations name it, without query
}

// wireModule names the engine in the pipeline's telemetry (User-Agent).
const (
	wireModule  = "eventstore-azuretables"
	wireVersion = "v1"
)

// newWire returns a wire to table name on the table service at endpoint,
// signing with cred (nil: none, for a SAS in endpoint's query), or nil if
// the endpoint is one the engine leaves to the SDK (Cosmos DB's, whose
// batches take other verbs).
func newWire(endpoint, name string, cred *sharedKey, copts *policy.ClientOptions) *wire {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || isCosmos(u) {
		return nil
	}
	var plo runtime.PipelineOptions
	if cred != nil {
		plo.PerRetry = []policy.Policy{cred}
	}
	base := *u
	base.RawQuery, base.Fragment = "", ""
	return &wire{
		pl:    runtime.NewPipeline(wireModule, wireVersion, plo, copts),
		batch: runtime.JoinPaths(endpoint, "$batch"),
		table: strings.TrimRight(base.String(), "/") + "/" + name,
	}
}

func isCosmos(u *url.URL) bool {
	h := strings.ToLower(u.Host)
	return strings.Contains(h, ".cosmos.") || strings.HasSuffix(h, ":8902")
}

// Header values of a batch and of its operations.
const (
	xmsVersion  = "2019-02-02"
	dataService = "3.0"
	acceptJSON  = "application/json;odata=minimalmetadata"
)

// submit sends t as one request and returns nil if the service applied it,
// a *BatchError if it refused an operation (with the status, code and
// index the multipart answer gives), or the pipeline's error.
func (w *wire) submit(ctx context.Context, t *tx) error {
	batchB, changeB := newNonce(), newNonce()
	body := t.body(w.table, batchB, changeB)
	req, err := runtime.NewRequest(ctx, http.MethodPost, w.batch)
	if err != nil {
		return err
	}
	h := req.Raw().Header
	h.Set("x-ms-version", xmsVersion)
	h.Set("DataServiceVersion", dataService)
	h.Set("Accept", acceptJSON)
	if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "multipart/mixed; boundary=batch_"+batchB); err != nil {
		return err
	}
	resp, err := w.pl.Do(req)
	if err != nil {
		return err
	}
	answer, err := runtime.Payload(resp)
	if err != nil {
		return err
	}
	if (resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent) && applied(answer) {
		return nil
	}
	return batchFailure(runtime.NewResponseError(resp))
}

// applied reports whether the answer to a batch says every operation
// succeeded: a multipart body whose responses all have a 2xx status. A
// failed batch holds the failing operation's response (4xx), or is a bare
// JSON error when the service refused the batch whole.
func applied(answer []byte) bool {
	if len(answer) == 0 || answer[0] == '{' {
		return false
	}
	const line = "HTTP/1.1 "
	for rest := answer; ; {
		i := bytes.Index(rest, []byte(line))
		if i < 0 {
			return true
		}
		rest = rest[i+len(line):]
		if len(rest) == 0 || rest[0] != '2' {
			return false
		}
	}
}

// body encodes t as the multipart/mixed body of a $batch request: one
// changeset (boundary changeset_changeB) inside the batch (boundary
// batch_batchB), one HTTP request per operation naming the table by its
// URL table.
func (t *tx) body(table, batchB, changeB string) []byte {
	b := make([]byte, 0, t.size+512)
	b = append(b, "--batch_"...)
	b = append(b, batchB...)
	b = append(b, "\r\nContent-Type: multipart/mixed; boundary=changeset_"...)
	b = append(b, changeB...)
	b = append(b, "\r\n\r\n"...)
	for _, o := range t.ops {
		b = append(b, "--changeset_"...)
		b = append(b, changeB...)
		b = append(b, "\r\nContent-Transfer-Encoding: binary\r\nContent-Type: application/http\r\n\r\n"...)
		b = o.request(b, table, t.pk)
	}
	b = append(b, "--changeset_"...)
	b = append(b, changeB...)
	b = append(b, "--\r\n--batch_"...)
	b = append(b, batchB...)
	b = append(b, "--\r\n"...)
	return b
}

// request appends o as an HTTP request inside a changeset: the verbs and
// headers the SDK sends for each kind (POST to add, PATCH to merge, PUT to
// replace, DELETE), with If-Match where the operation has a condition.
func (o *op) request(b []byte, table, pk string) []byte {
	var verb string
	switch o.kind {
	case aztables.TransactionTypeAdd:
		verb = "POST "
	case aztables.TransactionTypeUpdateMerge, aztables.TransactionTypeInsertMerge:
		verb = "PATCH "
	case aztables.TransactionTypeUpdateReplace, aztables.TransactionTypeInsertReplace:
		verb = "PUT "
	case aztables.TransactionTypeDelete:
		verb = "DELETE "
	}
	b = append(b, verb...)
	b = append(b, table...)
	if o.kind != aztables.TransactionTypeAdd {
		b = append(b, "(PartitionKey='"...)
		b = appendKey(b, pk)
		b = append(b, "',RowKey='"...)
		b = appendKey(b, rowKeyOf(o.entity))
		b = append(b, "')"...)
	}
	b = append(b, " HTTP/1.1\r\nAccept: "...)
	b = append(b, acceptJSON...)
	b = append(b, "\r\nDataServiceVersion: "...)
	b = append(b, dataService...)
	b = append(b, "\r\n"...)
	if o.ifMatch != "" {
		b = append(b, "If-Match: "...)
		b = append(b, o.ifMatch...)
		b = append(b, "\r\n"...)
	}
	if o.kind == aztables.TransactionTypeAdd {
		b = append(b, "Prefer: return-no-content\r\n"...)
	}
	if o.kind != aztables.TransactionTypeDelete {
		b = append(b, "Content-Type: application/json\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(o.entity)), 10)
		b = append(b, "\r\n\r\n"...)
		b = append(b, o.entity...)
	} else {
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// appendKey appends key as it goes between the quotes of an OData key
// predicate in a URL path: quotes doubled, then path-escaped.
func appendKey(b []byte, key string) []byte {
	if plainKey(key) {
		return append(b, key...)
	}
	return append(b, url.PathEscape(strings.ReplaceAll(key, "'", "''"))...)
}

// plainKey reports whether key needs no escaping: letters, digits and
// - . _ ~ ! (the engine's keys are hex, digits and these).
func plainKey(key string) bool {
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '!':
		default:
			return false
		}
	}
	return true
}
