package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/contrib/sqlite"
)

type MoneyDeposited struct {
	Amount int
}

// The package documentation's tutorial: open a file, hand the engine to the
// store, commit, read back.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sqlite-example")
	defer os.RemoveAll(dir)

	engine, err := sqlite.Open(ctx, "sqlite://"+filepath.Join(dir, "events.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	store, err := eventstore.Wireup().
		UsingPersistence(engine). // Build initializes it; store.Close closes it
		RegisterType("MoneyDeposited", MoneyDeposited{}).
		Build(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close(ctx)

	stream, _ := store.OpenStream(ctx, "account-1", 0, 0)
	stream.Add(eventstore.EventMessage{Body: MoneyDeposited{Amount: 100}})
	if _, err := stream.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
		fmt.Println(err)
		return
	}
	again, _ := store.OpenStream(ctx, "account-1", 0, 0)
	fmt.Printf("revision %d: %+v\n", again.StreamRevision(), again.CommittedEvents()[0].Body)
	// Output:
	// revision 1: {Amount:100}
}
