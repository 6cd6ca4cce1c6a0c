package subscription

import (
	"context"

	"github.com/goeventstore/eventstore"
)

// Handler handles a page of commits, in checkpoint order. It returns how many
// of them, from the first, it finished (n <= len(page)); if n < len(page) it
// must return a non-nil error saying why it stopped. The commits it
// finished count as done whatever the error; the others are handed to it
// again (if the error is retried) or never (if Run stops).
//
// A handler must not keep page after it returns.
type Handler func(ctx context.Context, page []eventstore.Commit) (n int, err error)

// Each returns a Handler that calls f for each commit of a page in turn and
// stops at the first error.
func Each(f func(ctx context.Context, c eventstore.Commit) error) Handler {
	return func(ctx context.Context, page []eventstore.Commit) (int, error) {
		for i, c := range page {
			if err := f(ctx, c); err != nil {
				return i, err
			}
		}
		return len(page), nil
	}
}
