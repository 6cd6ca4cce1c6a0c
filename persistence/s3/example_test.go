package s3_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/s3"
)

// Open an engine on a MinIO server (path-style addressing, static keys),
// under the prefix "events" of bucket "my-bucket", prepare it, and commit.
func ExampleOpen() {
	ctx := context.Background()
	e, err := s3.Open(ctx, "s3://my-bucket/events?endpoint=http%3A%2F%2F127.0.0.1%3A9000&use_path_style=true"+
		"&access_key_id=minioadmin&secret_access_key=minioadmin&op_timeout=10s")
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close(ctx)
	if err := e.Initialize(ctx); err != nil { // creates the bucket, probes If-None-Match: *
		log.Fatal(err)
	}
	a := &persistence.CommitAttempt{BucketID: "default", StreamID: "account-1", StreamRevision: 1,
		CommitID: persistence.NewUUID(), CommitSequence: 1, CommitStamp: time.Now().UTC(), EventCount: 1, Payload: []byte(`{"deposited":5}`)}
	c, err := e.Commit(ctx, a)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("checkpoint", c.Checkpoint)
}
