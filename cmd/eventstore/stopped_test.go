package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/goeventstore/eventstore"
)

// TestStopped: following ends cleanly when the caller's deadline ended the
// read, even a moment before ctx says so, and not on an outage.
func TestStopped(t *testing.T) {
	early := fmt.Errorf("read all: %w", errors.Join(context.DeadlineExceeded, errors.New("operation not sent to server, as Timeout would be exceeded")))
	outage := fmt.Errorf("read all: %w: %w", eventstore.ErrStorageUnavailable, context.DeadlineExceeded)
	withDeadline, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"the caller's deadline, just before it passed", withDeadline, early, true},
		{"no answer within the operation timeout", withDeadline, outage, false},
		{"another error", withDeadline, errors.New("boom"), false},
		{"no deadline", context.Background(), early, false},
		{"cancelled", cancelled, errors.New("boom"), true},
	} {
		if got := stopped(c.ctx, c.err); got != c.want {
			t.Errorf("%s: stopped = %v, want %v", c.name, got, c.want)
		}
	}
}
