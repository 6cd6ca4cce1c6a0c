package testserver

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// mongoAdmin manages the databases of isolated MongoDB tests.
type mongoAdmin struct {
	base   *url.URL
	client *mongo.Client
}

func openMongo(base string) (admin, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
		return nil, fmt.Errorf("testserver: MongoDB URL %q: want mongodb://HOST:PORT/", base)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(base).
		SetServerSelectionTimeout(2 * time.Second).SetConnectTimeout(2 * time.Second))
	if err != nil {
		return nil, err
	}
	return &mongoAdmin{base: u, client: c}, nil
}

func (a *mongoAdmin) ping(ctx context.Context) error { return a.client.Ping(ctx, nil) }

// create does nothing: MongoDB creates a database on its first write.
func (a *mongoAdmin) create(context.Context, string) error { return nil }

func (a *mongoAdmin) drop(ctx context.Context, name string) error {
	return a.client.Database(name).Drop(ctx)
}

func (a *mongoAdmin) isolated(name string) string {
	u := *a.base
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

func (a *mongoAdmin) close() error { return a.client.Disconnect(context.Background()) }
