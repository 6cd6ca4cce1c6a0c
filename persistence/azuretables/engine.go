package azuretables

import (
	"context"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/driver"
	"github.com/goeventstore/eventstore/persistence/internal/engines"
)

// engine is the Azure Table Storage driver under persistence.Engine. It
// implements driver.Engine and every optional capability.
type engine struct {
	svc          *aztables.ServiceClient
	table        *aztables.Client
	name         string
	timeout      time.Duration
	resolveAfter time.Duration
	log          *appender
	seen         lastSeen // per stream, the last commit written or read: floors
	wire         *wire    // sends batches; nil: the SDK does
}

var _ engines.Client = (*engine)(nil)

func newEngine(sc *aztables.ServiceClient, s *persistence.Settings) (*engine, error) {
	name, resolveAfter, err := config(s)
	if err != nil {
		return nil, err
	}
	e := &engine{svc: sc, table: sc.NewClient(name), name: name, timeout: s.Timeout, resolveAfter: resolveAfter}
	e.log = newAppender(e)
	return e, nil
}

// String names the engine for logs, without credentials.
func (e *engine) String() string { return "azuretables engine (table " + e.name + ")" }

// As sets *target to the engine's *aztables.ServiceClient or its table's
// *aztables.Client.
func (e *engine) As(target any) bool {
	return engines.As(target, e.svc) || engines.As(target, e.table)
}

// Initialize creates the table. It is idempotent: one request once the
// table exists. Azure keeps a deleted table's name for a while (409
// TableBeingDeleted); Initialize waits that out, within its context.
func (e *engine) Initialize(ctx context.Context) error {
	for {
		_, err := e.table.CreateTable(ctx, nil)
		if err == nil {
			return nil
		}
		_, code := status(err)
		switch code {
		case string(aztables.TableAlreadyExists):
			return nil
		case string(aztables.TableBeingDeleted):
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Second):
			}
			continue
		}
		return err
	}
}

// Drop deletes the table. Checkpoints start again at 1 after Initialize.
func (e *engine) Drop(ctx context.Context) error {
	_, err := e.table.Delete(ctx, nil)
	e.log.forget()
	e.seen.clear()
	if s, _ := status(err); s == http.StatusNotFound {
		return nil
	}
	return err
}

// Close stops the log appender; the client holds nothing to release.
func (e *engine) Close(ctx context.Context) error {
	e.log.close()
	return nil
}

// Classify gives the service's answers their classes.
func (e *engine) Classify(err error) error {
	s, code := status(err)
	switch {
	case code == string(aztables.TableNotFound):
		return driver.ErrNotInitialized
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return driver.ErrPermissionDenied
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		return driver.ErrStorageUnavailable
	case s != 0:
		return driver.ErrStorage
	}
	return nil
}

// get reads one row; found is false if it does not exist.
func (e *engine) get(ctx context.Context, pk, rk string) (r *row, found bool, err error) {
	resp, err := e.table.GetEntity(ctx, pk, rk, nil)
	if err != nil {
		if isNotFound(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	r, err = decodeRow(resp.Value)
	if err != nil {
		return nil, false, err
	}
	r.ETag = string(resp.ETag)
	return r, true, nil
}

// query calls fn with every row that filter selects, page by page, until fn
// returns false. top bounds each page (0: the service's 1,000).
func (e *engine) query(ctx context.Context, filter string, top int, fn func(*row) (bool, error)) error {
	_, err := e.entities(ctx, filter, "", top, func(b []byte) (bool, error) {
		r, err := decodeRow(b)
		if err != nil {
			return false, err
		}
		return fn(r)
	})
	return err
}

// entities calls fn with the JSON of every entity that filter selects
// (with only the properties sel names, if any), page by page, until fn
// returns false; more then reports whether the query had pages left. top
// bounds each page (0: the service's 1,000).
func (e *engine) entities(ctx context.Context, filter, sel string, top int, fn func([]byte) (bool, error)) (more bool, err error) {
	o := &aztables.ListEntitiesOptions{Filter: &filter}
	if sel != "" {
		o.Select = &sel
	}
	if top > 0 {
		t := int32(min(top, 1000))
		o.Top = &t
	}
	p := e.table.NewListEntitiesPager(o)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, err
		}
		for _, b := range page.Entities {
			if goOn, err := fn(b); err != nil || !goOn {
				return p.More(), err
			}
		}
	}
	return false, nil
}

func etag(s string) *azcore.ETag {
	t := azcore.ETag(s)
	return &t
}
