package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/goeventstore/eventstore/persistence"
)

func (a *app) dispatchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dispatch",
		Short: "See and repair which commits are still to be dispatched",
		Example: `  eventstore dispatch status
  eventstore dispatch mark --before 1500 --yes
  eventstore dispatch run --to nats://127.0.0.1:4222?stream=EVENTS --follow`,
	}
	var limit int
	status := &cobra.Command{
		Use:   "status",
		Short: "Count the undispatched commits and list the oldest",
		Long: `status counts the commits the engine holds as not yet dispatched (a program's
Wireup().Build dispatches them at its next start) and lists the oldest --limit.`,
		Example: "  eventstore dispatch status --limit 5",
		Args:    args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, done, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer done()
			e := s.Engine()
			if err := tracksDispatch(e); err != nil {
				return err
			}
			n := 0
			t := a.newTable("CHECKPOINT", "STAMP", "BUCKET", "STREAM", "SEQUENCE", "COMMIT")
			for c, err := range e.Undispatched(ctx) {
				if err != nil {
					return err
				}
				n++
				if n > limit {
					continue
				}
				if a.jsonOut() {
					if err := a.emit(map[string]any{"checkpoint": c.Checkpoint, "commit_stamp": c.CommitStamp.UTC().Format(stampLayout),
						"bucket": c.BucketID, "stream": c.StreamID, "commit_sequence": c.CommitSequence, "commit_id": c.CommitID.String()}); err != nil {
						return err
					}
					continue
				}
				t.AppendRow([]any{c.Checkpoint, c.CommitStamp.UTC().Format(stampLayout), c.BucketID, c.StreamID, c.CommitSequence, c.CommitID})
			}
			if a.jsonOut() {
				return a.emit(map[string]any{"undispatched": n})
			}
			a.printf("%d undispatched commits\n", n)
			if n > 0 && limit > 0 {
				t.Render()
			}
			return nil
		},
	}
	status.Flags().IntVar(&limit, "limit", 20, "list at most this many (0: count only)")

	var all, yes bool
	var before int64
	mark := &cobra.Command{
		Use:   "mark (--all | --before CP) --yes",
		Short: "Mark undispatched commits as dispatched, so that they are never dispatched",
		Long: `mark records undispatched commits as dispatched without dispatching them: all of
them (--all) or those with a checkpoint below CP (--before). Use it when the
consumers already have these commits (after a restore, say). An interruption
leaves the commits marked so far marked; run it again to finish.`,
		Example: `  eventstore dispatch mark --before 1500 --yes
  eventstore dispatch mark --all --yes`,
		Args: args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all == (before > 0) {
				return usagef("dispatch mark needs --all or --before CP (a positive checkpoint), not both")
			}
			if err := needYes(yes, "marking commits dispatched"); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, done, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer done()
			e := s.Engine()
			n := 0
			var batch []persistence.Commit
			flush := func() error {
				if err := e.MarkDispatchedBatch(ctx, batch); err != nil {
					return markErr(err, n)
				}
				n += len(batch)
				batch = batch[:0]
				return nil
			}
			for c, err := range e.Undispatched(ctx) {
				if err != nil {
					return markErr(err, n)
				}
				if !all && c.Checkpoint >= before {
					break
				}
				if batch = append(batch, c); len(batch) == markBatch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			if err := flush(); err != nil {
				return err
			}
			if a.jsonOut() {
				return a.emit(map[string]any{"marked": n})
			}
			a.printf("marked %d commits dispatched\n", n)
			return nil
		},
	}
	mark.Flags().BoolVar(&all, "all", false, "mark every undispatched commit")
	mark.Flags().Int64Var(&before, "before", 0, "mark the undispatched commits with a checkpoint below this one")
	mark.Flags().BoolVar(&yes, "yes", false, "confirm")

	cmd.AddCommand(status, mark, a.dispatchRunCmd())
	return cmd
}

func markErr(err error, n int) error {
	return fmt.Errorf("after marking %d commits: %w", n, err)
}

func (a *app) purgeCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "purge --yes",
		Short: "Remove every commit and snapshot (of --bucket if given); the storage stays usable",
		Long: `purge removes every commit and snapshot of the store, or of one bucket with
--bucket. Tables stay; checkpoints are never handed out again.`,
		Example: "  eventstore purge --bucket tenant-7 --yes\n  eventstore purge --yes",
		Args:    args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			what := "purging the whole store"
			if a.bucket != "" {
				what = "purging bucket " + a.bucket
			}
			if err := needYes(yes, what); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, done, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer done()
			if a.bucket != "" {
				err = s.Bucket(a.bucket).Purge(ctx)
			} else {
				err = s.Purge(ctx)
			}
			if err != nil {
				return err
			}
			if a.jsonOut() {
				return a.emit(map[string]any{"purged": true, "bucket": a.bucket})
			}
			a.printf("purged\n")
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm: the data is gone for good")
	return cmd
}

func (a *app) dropCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:     "drop --yes",
		Short:   "Remove the store's data and its tables, collections or containers",
		Long:    `drop removes everything init created, data included. 'eventstore init' makes the store usable again.`,
		Example: "  eventstore drop --store mysql://root@127.0.0.1:3306/scratch --yes",
		Args:    args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := needYes(yes, "dropping the store"); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, done, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer done()
			if err := s.Engine().Drop(ctx); err != nil {
				return err
			}
			if a.jsonOut() {
				return a.emit(map[string]any{"dropped": true})
			}
			a.printf("dropped\n")
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm: the data and tables are gone for good")
	return cmd
}

// tracksDispatch returns an error matching persistence.ErrUnsupported if e
// does not record which commits were dispatched.
func tracksDispatch(e *persistence.Engine) error {
	if !e.Supports(persistence.Dispatch) {
		return fmt.Errorf("the %s engine does not track dispatch: %w", e.Name(), persistence.ErrUnsupported)
	}
	return nil
}
