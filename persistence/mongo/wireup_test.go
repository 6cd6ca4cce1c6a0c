package mongo_test

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/internal/testserver"
	_ "github.com/goeventstore/eventstore/persistence/mongo"
)

type deposited struct{ Amount int }

// The blank import is all a program needs for Wireup().UsingMongo and
// mongodb:// URLs.
// It runs on both servers of the package's tests (helper_test.go).
func TestWireup(t *testing.T) {
	for _, kind := range []string{testserver.Mongo, testserver.FerretPG} {
		t.Run(kind, func(t *testing.T) { t.Parallel(); testWireup(t, kind) })
	}
}

func testWireup(t *testing.T, kind string) {
	ctx := context.Background()
	url := testserver.Get(t, kind).Isolated(t)
	for name, b := range map[string]*eventstore.Builder{
		"UsingMongo": eventstore.Wireup().UsingMongo(url + "?commits=events"),
		"UsingURL":   eventstore.Wireup().UsingURL(url + "?commits=events"),
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
}
