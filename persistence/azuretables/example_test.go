package azuretables_test

import (
	"context"
	"fmt"
	"log"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence/azuretables"
)

// A store on a local Azurite, opened from the development connection
// string.
func ExampleOpen() {
	ctx := context.Background()
	engine, err := azuretables.Open(ctx, "UseDevelopmentStorage=true", azuretables.WithTablePrefix("shop"))
	if err != nil {
		log.Fatal(err)
	}
	store, err := eventstore.Wireup().UsingPersistence(engine).Build(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close(ctx)
	fmt.Println(engine.Name())
}

// New takes a client built with any credential: with
// github.com/Azure/azure-sdk-for-go/sdk/azidentity, an Entra ID token
// credential through aztables.NewServiceClient.
func ExampleNew() {
	ctx := context.Background()
	cred, err := aztables.NewSharedKeyCredential("account", "a2V5")
	if err != nil {
		log.Fatal(err)
	}
	client, err := aztables.NewServiceClientWithSharedKey("https://account.table.core.windows.net", cred, nil)
	if err != nil {
		log.Fatal(err)
	}
	engine, err := azuretables.New(client, azuretables.WithTablePrefix("orders"))
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close(ctx)
	fmt.Println(engine.Name())
}
