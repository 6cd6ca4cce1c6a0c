package azuretables_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/azuretables"
)

type deposited struct{ Amount int }

// The blank import is all a program needs for Wireup().UsingAzureTables,
// azuretables:// URLs and connection strings; New takes a client the
// caller built.
func TestWireup(t *testing.T) {
	ctx := context.Background()
	raw := testserver.Get(t, testserver.Azure).Isolated(t)
	u, _ := url.Parse(raw)
	q := u.Query()
	cs := "DefaultEndpointsProtocol=http;AccountName=" + q.Get("account") + ";AccountKey=" + q.Get("account_key") +
		";TableEndpoint=" + q.Get("endpoint") + ";"
	cred, err := aztables.NewSharedKeyCredential(q.Get("account"), q.Get("account_key"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := aztables.NewServiceClientWithSharedKey(q.Get("endpoint"), cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	byClient, err := azuretables.New(sc, azuretables.WithTablePrefix(u.Host+"c"))
	if err != nil {
		t.Fatal(err)
	}
	byCS, err := azuretables.Open(ctx, cs, azuretables.WithTablePrefix(u.Host+"b"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]*eventstore.Builder{
		"UsingAzureTables":  eventstore.Wireup().UsingAzureTables(raw + "&page_size=7"),
		"UsingURL":          eventstore.Wireup().UsingURL(raw),
		"connection string": eventstore.Wireup().UsingPersistence(byCS),
		"New":               eventstore.Wireup().UsingPersistence(byClient),
	} {
		store, err := b.RegisterType("deposited", deposited{}).Build(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s, err := store.OpenStream(ctx, "account-"+name, 0, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s.Add(eventstore.EventMessage{Body: deposited{Amount: 5}})
		if _, err := s.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s, err = store.OpenStream(ctx, "account-"+name, 0, 0)
		if err != nil {
			t.Fatalf("%s: reopen: %v", name, err)
		}
		if evs := s.CommittedEvents(); len(evs) != 1 || evs[0].Body.(deposited).Amount != 5 {
			t.Fatalf("%s: read back %+v", name, evs)
		}
		if err := store.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var got *aztables.ServiceClient
	if !byClient.As(&got) || got != sc {
		t.Errorf("As(**aztables.ServiceClient) does not give the caller's client back")
	}
	_ = persistence.DefaultPageSize
}
