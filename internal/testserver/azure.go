package testserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// Azurite's well-known development account.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azureURL returns azuretables://TABLE?endpoint=URL&account=..&account_key=.. (the base URL when table
// is empty).
func azureURL(table, endpoint, account, key string) string {
	q := url.Values{}
	q.Set("endpoint", endpoint)
	q.Set("account", account)
	q.Set("account_key", key)
	return (&url.URL{Scheme: "azuretables", Host: table, RawQuery: q.Encode()}).String()
}

// azureClient returns a table service client for an azuretables:// URL in the form this package
// documents (endpoint, account and shared key from the query), and the table it names.
func azureClient(rawURL string) (*aztables.ServiceClient, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "azuretables" {
		return nil, "", fmt.Errorf("testserver: Azure URL %q: want azuretables://TABLE?endpoint=URL", rawURL)
	}
	q := u.Query()
	cred, err := aztables.NewSharedKeyCredential(q.Get("account"), q.Get("account_key"))
	if err != nil {
		return nil, "", fmt.Errorf("testserver: Azure URL: %w", err)
	}
	c, err := aztables.NewServiceClientWithSharedKey(q.Get("endpoint"), cred, nil)
	if err != nil {
		return nil, "", fmt.Errorf("testserver: Azure URL: %w", err)
	}
	return c, u.Host, nil
}

// azureAdmin manages the tables of isolated Azure tests.
type azureAdmin struct {
	base   *url.URL
	client *aztables.ServiceClient
}

func openAzure(base string) (admin, error) {
	c, _, err := azureClient(base)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(base)
	return &azureAdmin{base: u, client: c}, nil
}

func (a *azureAdmin) ping(ctx context.Context) error {
	_, err := a.client.NewListTablesPager(&aztables.ListTablesOptions{Top: ptr(int32(1))}).NextPage(ctx)
	return err
}

// create does nothing: the engine creates its table (or tables named with this prefix).
func (a *azureAdmin) create(context.Context, string) error { return nil }

// drop deletes every table whose name starts with name.
func (a *azureAdmin) drop(ctx context.Context, name string) error {
	filter := fmt.Sprintf("TableName ge '%s' and TableName lt '%s{'", name, name)
	p := a.client.NewListTablesPager(&aztables.ListTablesOptions{Filter: &filter})
	var errs []error
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, t := range page.Tables {
			if t.Name == nil {
				continue
			}
			if _, err := a.client.DeleteTable(ctx, *t.Name, nil); err != nil {
				var re *azcore.ResponseError
				if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
					continue
				}
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (a *azureAdmin) isolated(name string) string {
	u := *a.base
	u.Host = name
	return u.String()
}

func (a *azureAdmin) close() error { return nil }

func ptr[T any](v T) *T { return &v }
