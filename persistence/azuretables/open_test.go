package azuretables

import (
	"errors"
	"testing"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// TestOpenParses: the forms Open takes, the options they set, and a clear
// ValidationError naming what is wrong otherwise. Open dials nothing.
func TestOpenParses(t *testing.T) {
	const ep = "endpoint=http%3A%2F%2F127.0.0.1%3A10002%2Fdevstoreaccount1&account=devstoreaccount1&account_key=" + devKeyEscaped
	good := []struct {
		in, table string
		resolve   time.Duration
		page      int
	}{
		{"azuretables://orders?" + ep, "ordersevents", DefaultResolveAfter, persistence.DefaultPageSize},
		{"azuretables://?" + ep + "&page_size=9&resolve_after=3s", "eventstoreevents", 3 * time.Second, 9},
		{"azuretables://x?" + ep + "&table_prefix=Shop1", "Shop1events", DefaultResolveAfter, persistence.DefaultPageSize},
		{"UseDevelopmentStorage=true", "eventstoreevents", DefaultResolveAfter, persistence.DefaultPageSize},
		{"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + devKey + ";EndpointSuffix=core.windows.net", "eventstoreevents", DefaultResolveAfter, persistence.DefaultPageSize},
	}
	for _, g := range good {
		d, s, err := open(g.in, nil)
		if err != nil {
			t.Errorf("open(%q): %v", g.in, err)
			continue
		}
		if d.name != g.table || d.resolveAfter != g.resolve || s.PageSize != g.page {
			t.Errorf("open(%q): table %q, resolve_after %v, page size %d; want %q, %v, %d", g.in, d.name, d.resolveAfter, s.PageSize, g.table, g.resolve, g.page)
		}
	}
	// Options in code win over the URL.
	d, _, err := open("azuretables://orders?"+ep, nil, WithTablePrefix("other"))
	if err != nil || d.name != "otherevents" {
		t.Errorf("WithTablePrefix over the URL host: %v, %v", d, err)
	}
	bad := map[string]string{
		"azuretables://orders":                          "endpoint",
		"azuretables://orders?endpoint=ftp%3A%2F%2Fh":   "endpoint",
		"azuretables://1abc?" + ep:                      "table_prefix",
		"azuretables://a_b?" + ep:                       "table_prefix",
		"azuretables://x?" + ep + "&resolve_after=soon": "resolve_after",
		"azuretables://x?" + ep + "&resolve_after=-1s":  "resolve_after",
		"azuretables://x?" + ep + "&page_size=0":        "page_size",
		"not a connection string":                       "URL",
		"AccountName=acct":                              "connection string",
	}
	for in, field := range bad {
		_, _, err := open(in, nil)
		var ve *persistence.ValidationError
		if !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("open(%q): %v, want a ValidationError of field %s", in, err, field)
		}
	}
	if _, err := New(nil); err == nil {
		t.Errorf("New(nil) succeeded")
	}
}

const devKeyEscaped = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq%2FK1SZFPTOtr%2FKBHBeksoGMGw%3D%3D"
