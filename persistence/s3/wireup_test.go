package s3_test

import (
	"context"
	"testing"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/internal/testserver"
	_ "github.com/goeventstore/eventstore/persistence/s3"
)

type deposited struct{ Amount int }

// The blank import is all a program needs for Wireup().UsingS3 and s3://
// URLs.
func TestWireup(t *testing.T) {
	ctx := context.Background()
	url := testserver.Get(t, testserver.S3).Isolated(t)
	for name, b := range map[string]*eventstore.Builder{
		"UsingS3":  eventstore.Wireup().UsingS3(url),
		"UsingURL": eventstore.Wireup().UsingURL(url),
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
