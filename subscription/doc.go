// Package subscription runs catch-up subscriptions: the read side that
// projections, read models and the bus relay (package relay) share.
//
// A subscription starts after a checkpoint, reads the store's commits in
// checkpoint order (Store.Commits, so that late commits are never skipped:
// see the store's documentation), and hands them to a Handler a page at a
// time. Once it has read everything, it waits for the poll interval, or less:
// a commit made through the same engine in this process wakes it at once
// (persistence.Engine.Committed). Commits of other processes are seen at the
// next poll.
//
//	sub, err := subscription.New(store, subscription.Each(func(ctx context.Context, c eventstore.Commit) error {
//		return project(ctx, c) // idempotent: after a crash a commit may come again
//	}), subscription.Options{
//		Poll:       time.Second,
//		OnProgress: func(p subscription.Progress) { saveCheckpoint(p.Position) },
//	})
//	if err != nil {
//		return err
//	}
//	err = sub.Run(ctx, loadCheckpoint()) // until ctx is done or the handler gives up
//
// # What the handler is told, and what is reported
//
// A Handler gets a page of commits and returns how many of them (a prefix) it
// finished, as io.Writer does. Only finished commits count: the position
// (Subscription.Position, Progress.Position, what OnProgress receives)
// is the checkpoint of the last commit the handler finished, never of a
// commit it is still working on or gave up on. Save that position; start
// the next run from it; commits after it come again (at least once).
//
// # Errors
//
//   - A storage error (the engine is down: ErrStorageUnavailable, ErrStorage)
//     pauses the subscription with exponential backoff (Options.MinBackoff,
//     MaxBackoff); it goes on from its position once the engine answers.
//   - A permanent storage error (ErrPermissionDenied, ErrNotInitialized,
//     ErrMisconfigured, ErrClosed) ends Run.
//   - A handler error is retried with the same backoff, on the commits the
//     handler did not finish, while Options.Retry says so; otherwise Run
//     returns it (wrapped in a *HandlerError). Without Retry, Run stops at the
//     first handler error.
//   - A commit that cannot be decoded (ErrCorrupt) ends Run, unless
//     Options.OnCorrupt says to go past it.
//   - When ctx is done Run returns ctx.Err().
//
// # Lag
//
// Progress tells how far the subscription is behind the store's head
// (persistence.Engine.Head, a cheap read on every engine): Behind is the
// distance in checkpoints (an upper bound on the number of commits, since
// checkpoints need not be dense) and Delay is the age of the last commit
// finished while the subscription is behind (zero once it is caught up).
package subscription
