package azuretables

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// TestParseBatchResponse reads failed-batch bodies kept in testdata: ones
// recorded from Azurite 3.37.0 (azurite-*.txt, written by
// TestBatchFailureAzurite with -record) and ones in the format Azure's
// documentation describes (azure-*.txt, written by hand in that format:
// a changeset holding only the failing operation, its message prefixed
// with the operation index; no Azure account was at hand to record them).
func TestParseBatchResponse(t *testing.T) {
	cases := []struct {
		file   string
		status int
		code   string
		index  int
	}{
		{"azure-409.txt", 409, "EntityAlreadyExists", 1},
		{"azure-412.txt", 412, "UpdateConditionNotSatisfied", 2},
		{"azure-404.txt", 404, "ResourceNotFound", 4},
		{"azure-400-partitions.txt", 400, "CommandsInBatchActOnDifferentPartitions", 1},
		{"azure-json-400.txt", 0, "InvalidInput", 99},
		{"azurite-409.txt", 409, "EntityAlreadyExists", 1},
		{"azurite-412.txt", 412, "UpdateConditionNotSatisfied", 2},
		{"azurite-404.txt", 404, "ResourceNotFound", 1},
	}
	for _, c := range cases {
		body, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		status, code, index, msg, ok := ParseBatchResponse(body)
		if !ok || status != c.status || code != c.code || (c.index != -2 && index != c.index) {
			t.Errorf("%s: status %d code %q index %d ok %v (%q), want %d %q %d", c.file, status, code, index, ok, msg, c.status, c.code, c.index)
		}
	}
	for _, bad := range []string{"", "garbage", "--b\r\nHTTP/1.1 202 Accepted\r\n\r\n--b--"} {
		if _, _, _, _, ok := ParseBatchResponse([]byte(bad)); ok {
			t.Errorf("ParseBatchResponse(%q) reports an error", bad)
		}
	}
}

// TestBatchFailureAzurite makes batches fail on Azurite with 409 (Add of an
// existing row), 412 (a stale ETag) and 404 (Merge of a missing row) at a
// known operation, and checks what the SDK says (202, no error code) and
// what the engine makes of it.
func TestBatchFailureAzurite(t *testing.T) {
	_, d := openEngine(t, isolatedURL(t))
	ctx := t.Context()
	pk := "p"
	row := func(rk string) []byte { return newEnt(pk, rk).str("V", "x").bytes() }
	if _, err := d.table.AddEntity(ctx, row("a"), nil); err != nil {
		t.Fatal(err)
	}
	got, err := d.table.GetEntity(ctx, pk, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.table.UpdateEntity(ctx, row("a"), nil); err != nil { // the ETag moves on
		t.Fatal(err)
	}
	stale := got.ETag
	cases := []struct {
		name   string
		ops    []aztables.TransactionAction
		status int
		code   string
		index  int
	}{
		{"409", []aztables.TransactionAction{
			{ActionType: aztables.TransactionTypeAdd, Entity: row("b")},
			{ActionType: aztables.TransactionTypeAdd, Entity: row("a")},
		}, http.StatusConflict, "EntityAlreadyExists", 1},
		{"412", []aztables.TransactionAction{
			{ActionType: aztables.TransactionTypeAdd, Entity: row("b")},
			{ActionType: aztables.TransactionTypeAdd, Entity: row("c")},
			{ActionType: aztables.TransactionTypeUpdateMerge, Entity: row("a"), IfMatch: &stale},
		}, http.StatusPreconditionFailed, "UpdateConditionNotSatisfied", 2},
		{"404", []aztables.TransactionAction{
			{ActionType: aztables.TransactionTypeAdd, Entity: row("b")},
			{ActionType: aztables.TransactionTypeUpdateMerge, Entity: row("missing"), IfMatch: &etagAny},
		}, http.StatusNotFound, "ResourceNotFound", 1},
	}
	for _, c := range cases {
		_, err := d.table.SubmitTransaction(ctx, c.ops, nil)
		var re *azcore.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("%s: SubmitTransaction: %v, want a *azcore.ResponseError", c.name, err)
		}
		t.Logf("%s: the SDK reports status %d, error code %q", c.name, re.StatusCode, re.ErrorCode)
		var be *BatchError
		if !errors.As(batchFailure(err), &be) {
			t.Fatalf("%s: batchFailure(%v) is no *BatchError", c.name, err)
		}
		if be.Status != c.status || be.Code != c.code {
			t.Errorf("%s: BatchError %d %q, want %d %q", c.name, be.Status, be.Code, c.status, c.code)
		}
		if be.Index != c.index {
			// Azurite's indexes differ from Azure's (Azurite#1829); the engine never relies on them.
			t.Logf("%s: Azurite names operation %d, Azure would name %d (%q)", c.name, be.Index, c.index, be.Message)
		}
		if !isConflict(be) {
			t.Errorf("%s: isConflict = false", c.name)
		}
		if _, found, _ := d.get(ctx, pk, "b"); found {
			t.Errorf("%s: the failed batch's first operation was applied", c.name)
		}
		if *record {
			body, _ := readPayload(re)
			os.WriteFile(filepath.Join("testdata", "azurite-"+c.name+".txt"), body, 0o644)
		}
	}
}

// capture is a transport that keeps the last $batch request body.
type capture struct {
	base        http.RoundTripper
	ctype, body string
}

func (c *capture) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "$batch") {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		c.ctype, c.body = req.Header.Get("Content-Type"), string(b)
	}
	return c.base.RoundTrip(req)
}

// TestGuardCatchesWhatAzuriteTakes: Azurite applies a batch over two
// partitions and one of 101 operations, which Azure refuses; the guard the
// other tests run under reports both, and passes the engine's own batches.
func TestGuardCatchesWhatAzuriteTakes(t *testing.T) {
	c := &capture{base: http.DefaultTransport}
	_, d := openWith(t, isolatedURL(t), c, -1)
	ctx := t.Context()
	ops := []aztables.TransactionAction{
		{ActionType: aztables.TransactionTypeAdd, Entity: newEnt("p1", "a").bytes()},
		{ActionType: aztables.TransactionTypeAdd, Entity: newEnt("p2", "a").bytes()},
	}
	if _, err := d.table.SubmitTransaction(ctx, ops, nil); err != nil {
		t.Logf("Azurite refused the batch over two partitions: %v", err)
	} else {
		t.Logf("Azurite applied a batch over two partitions")
	}
	if _, err := checkBatch(c.ctype, []byte(c.body)); err == nil || !strings.Contains(err.Error(), "partitions") {
		t.Errorf("checkBatch of a batch over two partitions: %v", err)
	}
	ops = ops[:0]
	for i := range 101 {
		ops = append(ops, aztables.TransactionAction{ActionType: aztables.TransactionTypeInsertReplace, Entity: newEnt("p3", fmt.Sprint(i)).bytes()})
	}
	_, err := d.table.SubmitTransaction(ctx, ops, nil)
	t.Logf("a batch of 101 operations on Azurite: %v", err)
	if _, err := checkBatch(c.ctype, []byte(c.body)); err == nil || !strings.Contains(err.Error(), "over 100") {
		t.Errorf("checkBatch of 101 operations: %v", err)
	}
	t2 := &tx{}
	for i := range 101 {
		t2.add(aztables.TransactionTypeAdd, "p", newEnt("p", fmt.Sprint(i)).bytes(), nil)
	}
	if err := d.submit(ctx, t2); err == nil {
		t.Errorf("the engine's submit took a batch of 101 operations")
	}
}
