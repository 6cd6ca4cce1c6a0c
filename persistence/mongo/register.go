package mongo

import (
	"context"

	"github.com/goeventstore/eventstore/persistence"
)

// The engine registers itself for both URL schemes of MongoDB, so that
// persistence.OpenURL and eventstore's Wireup().UsingMongo(uri) open it.
func init() {
	persistence.Register("mongodb", open)
	persistence.Register("mongodb+srv", open)
}

func open(ctx context.Context, dataSource string) (persistence.Engine, error) {
	return Open(ctx, dataSource, nil)
}
