package main

import (
	"context"
	"testing"
)

// TestRun runs the example: a store, a relay, an embedded NATS server and
// a consumer that must receive the three commits.
func TestRun(t *testing.T) {
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
}
