package azuretables

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/goeventstore/eventstore/persistence"
)

// TestWireBody checks the body the wire builds against what the REST API
// asks of a batch: one changeset in the batch, one HTTP request per
// operation with the verb, key predicate, If-Match and entity of its kind,
// keys quoted and escaped as OData and URLs want them.
func TestWireBody(t *testing.T) {
	const table = "http://127.0.0.1:10002/devstoreaccount1/tevents"
	t1 := &tx{}
	t1.add(aztables.TransactionTypeAdd, "p", newEnt("p", "a").str("V", "x").bytes(), nil)
	t1.add(aztables.TransactionTypeUpdateMerge, "p", newEnt("p", "b'c d").bytes(), &etagAny)
	t1.add(aztables.TransactionTypeInsertMerge, "p", newEnt("p", "!tail").i64("N", 3).bytes(), nil)
	t1.add(aztables.TransactionTypeInsertReplace, "p", newEnt("p", "r").bytes(), nil)
	stale := azcore.ETag(`W/"datetime'2026-12-01T13%3A55%3A40.19Z'"`)
	t1.add(aztables.TransactionTypeUpdateReplace, "p", newEnt("p", "u").bytes(), &stale)
	t1.add(aztables.TransactionTypeDelete, "p", newEnt("p", "ü").bytes(), &etagAny)
	body := t1.body(table, "B1", "C1")
	ops, err := checkBatch("multipart/mixed; boundary=batch_B1", body)
	if err != nil || ops != 6 {
		t.Fatalf("checkBatch: %d operations, %v; want 6, nil", ops, err)
	}
	want := []struct{ method, uri, ifMatch, entity string }{
		{"POST", table, "", `{"PartitionKey":"p","RowKey":"a","V":"x"}`},
		{"PATCH", table + "(PartitionKey='p',RowKey='b%27%27c%20d')", "*", `{"PartitionKey":"p","RowKey":"b'c d"}`},
		{"PATCH", table + "(PartitionKey='p',RowKey='!tail')", "", `{"PartitionKey":"p","RowKey":"!tail","N@odata.type":"Edm.Int64","N":"3"}`},
		{"PUT", table + "(PartitionKey='p',RowKey='r')", "", `{"PartitionKey":"p","RowKey":"r"}`},
		{"PUT", table + "(PartitionKey='p',RowKey='u')", string(stale), `{"PartitionKey":"p","RowKey":"u"}`},
		{"DELETE", table + "(PartitionKey='p',RowKey='%C3%BC')", "*", ""},
	}
	_, params, _ := mime.ParseMediaType("multipart/mixed; boundary=batch_B1")
	part, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).NextPart()
	if err != nil {
		t.Fatal(err)
	}
	inner := multipart.NewReader(part, "changeset_C1")
	for i, w := range want {
		p, err := inner.NextPart()
		if err != nil {
			t.Fatalf("operation %d: %v", i, err)
		}
		if p.Header.Get("Content-Type") != "application/http" || p.Header.Get("Content-Transfer-Encoding") != "binary" {
			t.Errorf("operation %d: part headers %v", i, p.Header)
		}
		r, err := http.ReadRequest(bufio.NewReader(p))
		if err != nil {
			t.Fatalf("operation %d: %v", i, err)
		}
		e, _ := io.ReadAll(r.Body)
		if r.Method != w.method || r.RequestURI != w.uri || r.Header.Get("If-Match") != w.ifMatch || string(e) != w.entity {
			t.Errorf("operation %d: %s %s If-Match %q %s\nwant %s %s If-Match %q %s", i, r.Method, r.RequestURI, r.Header.Get("If-Match"), e,
				w.method, w.uri, w.ifMatch, w.entity)
		}
		if r.Header.Get("Accept") != acceptJSON || r.Header.Get("DataServiceVersion") != dataService {
			t.Errorf("operation %d: headers %v", i, r.Header)
		}
		if (w.method == "POST") != (r.Header.Get("Prefer") == "return-no-content") {
			t.Errorf("operation %d: Prefer %q", i, r.Header.Get("Prefer"))
		}
	}
	if _, err := inner.NextPart(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last operation: %v, want EOF", err)
	}
}

// TestApplied reads the answers a batch gets: all operations 2xx is
// success; a failing operation's response or a bare JSON error is not.
func TestApplied(t *testing.T) {
	ok := "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_1\r\n\r\n" +
		"--changesetresponse_1\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n" +
		"--changesetresponse_1\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 201 Created\r\n\r\n\r\n" +
		"--changesetresponse_1--\r\n--batchresponse_1--\r\n"
	if !applied([]byte(ok)) {
		t.Errorf("applied(all 2xx) = false")
	}
	for _, file := range []string{"azure-409.txt", "azure-412.txt", "azure-json-400.txt", "azurite-404.txt"} {
		body, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		if applied(body) {
			t.Errorf("applied(%s) = true", file)
		}
	}
	if applied(nil) {
		t.Errorf("applied(empty answer) = true")
	}
}

// TestWireFailures makes batches sent by the wire fail on Azurite with 409
// (Add of an existing row), 412 (a stale ETag) and 404 (Merge of a missing
// row): each is a *BatchError with the status and code of the failing
// operation, a conflict, and nothing of the batch is applied. Row keys
// with a quote and a space show the key predicates reach the right rows.
func TestWireFailures(t *testing.T) {
	_, d := openWith(t, isolatedURL(t), newGuard(t, nil), 0)
	if d.wire == nil {
		t.Fatal("Open of an azuretables:// URL with an account key built no wire")
	}
	ctx := t.Context()
	pk := "p"
	row := func(rk string) []byte { return newEnt(pk, rk).str("V", "x").bytes() }
	add := &tx{}
	add.add(aztables.TransactionTypeAdd, pk, row("a'q z"), nil)
	add.add(aztables.TransactionTypeInsertMerge, pk, row("m"), nil)
	if err := d.submit(ctx, add); err != nil {
		t.Fatal(err)
	}
	got, err := d.table.GetEntity(ctx, pk, "a'q z", nil)
	if err != nil {
		t.Fatal(err)
	}
	upd := &tx{}
	upd.add(aztables.TransactionTypeUpdateMerge, pk, newEnt(pk, "a'q z").str("V", "y").bytes(), &got.ETag)
	if err := d.submit(ctx, upd); err != nil {
		t.Fatalf("Merge with the current ETag: %v", err)
	}
	if r, _, _ := d.get(ctx, pk, "a'q z"); r == nil || r.ETag == string(got.ETag) {
		t.Fatalf("the Merge did not reach row \"a'q z\"")
	}
	stale := got.ETag
	cases := []struct {
		name   string
		build  func(t *tx)
		status int
		code   string
	}{
		{"409", func(t *tx) {
			t.add(aztables.TransactionTypeAdd, pk, row("b"), nil)
			t.add(aztables.TransactionTypeAdd, pk, row("a'q z"), nil)
		}, http.StatusConflict, "EntityAlreadyExists"},
		{"412", func(t *tx) {
			t.add(aztables.TransactionTypeAdd, pk, row("b"), nil)
			t.add(aztables.TransactionTypeUpdateMerge, pk, row("a'q z"), &stale)
		}, http.StatusPreconditionFailed, "UpdateConditionNotSatisfied"},
		{"404", func(t *tx) {
			t.add(aztables.TransactionTypeAdd, pk, row("b"), nil)
			t.add(aztables.TransactionTypeUpdateMerge, pk, row("missing"), &etagAny)
		}, http.StatusNotFound, "ResourceNotFound"},
		{"404 delete", func(t *tx) {
			t.add(aztables.TransactionTypeAdd, pk, row("b"), nil)
			t.add(aztables.TransactionTypeDelete, pk, row("missing"), &etagAny)
		}, http.StatusNotFound, "ResourceNotFound"},
	}
	for _, c := range cases {
		b := &tx{}
		c.build(b)
		err := d.submit(ctx, b)
		var be *BatchError
		if !errors.As(err, &be) {
			t.Fatalf("%s: submit: %v, want a *BatchError", c.name, err)
		}
		if be.Status != c.status || be.Code != c.code {
			t.Errorf("%s: BatchError %d %q, want %d %q", c.name, be.Status, be.Code, c.status, c.code)
		}
		var re *azcore.ResponseError
		if !errors.As(err, &re) {
			t.Errorf("%s: %v does not wrap the *azcore.ResponseError", c.name, err)
		}
		if !isConflict(err) {
			t.Errorf("%s: isConflict = false", c.name)
		}
		if _, found, _ := d.get(ctx, pk, "b"); found {
			t.Errorf("%s: the failed batch's first operation was applied", c.name)
		}
	}
	del := &tx{}
	del.add(aztables.TransactionTypeDelete, pk, newEnt(pk, "a'q z").bytes(), &etagAny)
	del.add(aztables.TransactionTypeDelete, pk, newEnt(pk, "m").bytes(), &etagAny)
	if err := d.submit(ctx, del); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := d.get(ctx, pk, "a'q z"); found {
		t.Errorf("row \"a'q z\" is still there after its Delete")
	}
}

// TestOpenWire: Open sends batches itself whenever it knows the credential
// (an account key or none), from a URL or a connection string; New, with
// the caller's client, and a Cosmos DB endpoint leave them to the SDK.
func TestOpenWire(t *testing.T) {
	const key = "a2V5"
	cases := []struct {
		source, batch, table string
	}{
		{"azuretables://p?endpoint=http%3A%2F%2F127.0.0.1%3A10002%2Facct&account=acct&account_key=" + key,
			"http://127.0.0.1:10002/acct/$batch", "http://127.0.0.1:10002/acct/pevents"},
		{"azuretables://p?endpoint=https%3A%2F%2Facct.table.core.windows.net%2F%3Fsv%3D1%26sig%3Dx",
			"https://acct.table.core.windows.net/$batch?sv=1&sig=x", "https://acct.table.core.windows.net/pevents"},
		{"UseDevelopmentStorage=true", devEndpoint + "/$batch", devEndpoint + "/eventstoreevents"},
		{"DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=" + key + ";TableEndpoint=http://127.0.0.1:9/acct;",
			"http://127.0.0.1:9/acct/$batch", "http://127.0.0.1:9/acct/eventstoreevents"},
		{"AccountName=acct;AccountKey=" + key + ";EndpointSuffix=core.chinacloudapi.cn",
			"https://acct.table.core.chinacloudapi.cn/$batch", "https://acct.table.core.chinacloudapi.cn/eventstoreevents"},
		{"AccountName=acct;SharedAccessSignature=sv=1&sig=x",
			"https://acct.table.core.windows.net/$batch?sv=1&sig=x", "https://acct.table.core.windows.net/eventstoreevents"},
	}
	for _, c := range cases {
		d, _, err := open(c.source, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.source, err)
		}
		if d.wire == nil {
			t.Errorf("%s: no wire", c.source)
			continue
		}
		if d.wire.batch != c.batch || d.wire.table != c.table {
			t.Errorf("%s: wire to %s, %s; want %s, %s", c.source, d.wire.batch, d.wire.table, c.batch, c.table)
		}
	}
	for _, cosmos := range []string{
		"azuretables://p?endpoint=https%3A%2F%2Facct.table.cosmos.azure.com&account=acct&account_key=" + key,
		"AccountName=acct;AccountKey=" + key + ";TableEndpoint=https://acct.table.cosmos.azure.com:443/;",
	} {
		d, _, err := open(cosmos, nil)
		if err != nil {
			t.Fatalf("%s: %v", cosmos, err)
		}
		if d.wire != nil {
			t.Errorf("%s: the wire takes a Cosmos DB endpoint", cosmos)
		}
	}
}

// agents is a transport that records the User-Agent of every $batch
// request: the SDK's SubmitTransaction and the wire name themselves apart.
type agents struct {
	base *http.Client
	mu   sync.Mutex
	seen map[string]int
}

func (a *agents) Do(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "$batch") {
		a.mu.Lock()
		a.seen[strings.Fields(req.Header.Get("User-Agent"))[0]]++
		a.mu.Unlock()
	}
	return a.base.Do(req)
}

// counts returns a copy of the counts so far: the engine's appender may
// still be sending (its decision marks go out after a commit returns).
func (a *agents) counts() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.seen)
}

// TestSDKBatches: an engine made by New from the caller's client sends its
// batches through the SDK's SubmitTransaction, and keeps the guarantees
// there: commits, a conflict, a duplicate and reads back. An engine opened
// from a URL sends them through its wire.
func TestSDKBatches(t *testing.T) {
	ctx := t.Context()
	raw := isolatedURL(t)
	u, _ := url.Parse(raw)
	q := u.Query()
	cred, err := aztables.NewSharedKeyCredential(q.Get("account"), q.Get("account_key"))
	if err != nil {
		t.Fatal(err)
	}
	ua := &agents{base: transport(), seen: map[string]int{}}
	sc, err := aztables.NewServiceClientWithSharedKey(q.Get("endpoint"), cred, clientOptions(newGuard(t, ua), 0))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(sc, WithTablePrefix(u.Host))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	if err := e.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := e.Commit(ctx, attempt("b", "s", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Commit(ctx, attempt("b", "s", 3)); !errors.Is(err, persistence.ErrConcurrency) {
		t.Errorf("a commit at a taken sequence: %v, want ErrConcurrency", err)
	}
	dup := attempt("b", "s", 4)
	if _, err := e.Commit(ctx, dup); err != nil {
		t.Fatal(err)
	}
	dup.CommitSequence, dup.StreamRevision = 5, 5
	if _, err := e.Commit(ctx, dup); !errors.Is(err, persistence.ErrDuplicateCommit) {
		t.Errorf("a commit ID again at a later sequence: %v, want ErrDuplicateCommit", err)
	}
	n := 0
	for c, err := range e.ReadStream(ctx, "b", "s", 0, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if c.CommitSequence != n {
			t.Errorf("commit %d at sequence %d", n, c.CommitSequence)
		}
	}
	if n != 4 {
		t.Errorf("ReadStream: %d commits, want 4", n)
	}
	sdk := ua.counts()
	if len(sdk) != 1 || sdk["azsdk-go-aztables/v1.4.1"] == 0 {
		t.Errorf("batches of the engine made by New, by User-Agent: %v; want the SDK's only", sdk)
	}

	ua2 := &agents{base: transport(), seen: map[string]int{}}
	e2, _ := openWith(t, isolatedURL(t), newGuard(t, ua2), 0)
	if _, err := e2.Commit(ctx, attempt("b", "s", 1)); err != nil {
		t.Fatal(err)
	}
	if seen := ua2.counts(); len(seen) != 1 || seen["azsdk-go-"+wireModule+"/"+wireVersion] == 0 {
		t.Errorf("batches of the engine Open made, by User-Agent: %v; want the wire's only", seen)
	}
}
