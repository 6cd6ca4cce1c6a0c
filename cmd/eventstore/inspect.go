package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
)

func (a *app) enginesCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "engines",
		Short:   "List the storage engines this binary can open, with a URL of each",
		Example: "  eventstore engines\n  eventstore engines --output json",
		Args:    args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			linked := persistence.Engines()
			t := a.newTable("ENGINE", "LINKED", "EXAMPLE URL")
			for _, e := range engineExamples {
				ok := slices.Contains(linked, e.scheme)
				if a.jsonOut() {
					if err := a.emit(map[string]any{"engine": e.scheme, "linked": ok, "example": e.example, "package": e.pkg}); err != nil {
						return err
					}
					continue
				}
				t.AppendRow([]any{e.scheme, map[bool]string{true: "yes", false: "no (not in this build)"}[ok], e.example})
			}
			if !a.jsonOut() {
				t.Render()
			}
			return nil
		},
	}
}

func (a *app) initCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the tables, collections or containers the store needs (idempotent)",
		Long: `init prepares the store's storage, as a program's Wireup().Build does: it creates
what is missing and leaves what exists. Running it again is harmless.`,
		Example: "  eventstore init --store mysql://root@127.0.0.1:3306/events",
		Args:    args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			url, err := a.storeURL()
			if err != nil {
				return err
			}
			e, err := a.openEngine(ctx, url)
			if err != nil {
				return err
			}
			defer a.closeEngine(e)
			if err := e.Initialize(ctx); err != nil {
				return err
			}
			if a.jsonOut() {
				return a.emit(map[string]any{"initialized": e.Name()})
			}
			a.printf("initialized the %s store %s\n", e.Name(), redact(url))
			return nil
		},
	}
}

// stats is what the stats command counts.
type stats struct {
	Engine       string `json:"engine"`
	Bucket       string `json:"bucket,omitempty"`
	Head         int64  `json:"head_checkpoint"`
	Commits      int64  `json:"commits"`
	Events       int64  `json:"events"`
	Streams      int64  `json:"streams"`
	Buckets      int64  `json:"buckets"`
	Undispatched int64  `json:"undispatched"`
	Bytes        int64  `json:"payload_bytes"`
}

func (a *app) statsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Count commits, events, streams, buckets and undispatched commits; show the head checkpoint",
		Long: `stats reads every commit once (with a progress bar on a terminal) and counts
commits, events, streams, buckets and payload bytes, then the commits not yet
dispatched. With --bucket it counts one bucket (the undispatched count is always
the whole store's).`,
		Example: "  eventstore stats --store mongodb://127.0.0.1:27017/events\n  eventstore stats --bucket tenant-7 --output json",
		Args:    args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, done, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer done()
			e := s.Engine()
			st := stats{Engine: e.Name(), Bucket: a.bucket}
			if st.Head, err = e.Head(ctx); err != nil {
				return err
			}
			p := a.newProgress("stats", st.Head)
			streams := map[[2]string]struct{}{}
			buckets := map[string]struct{}{}
			for c, err := range a.readAll(ctx, e, 0) {
				if err != nil {
					p.Done()
					return err
				}
				st.Commits++
				st.Events += int64(c.EventCount)
				st.Bytes += int64(len(c.Payload))
				streams[[2]string{c.BucketID, c.StreamID}] = struct{}{}
				buckets[c.BucketID] = struct{}{}
				p.Set(c.Checkpoint)
			}
			p.Done()
			st.Streams, st.Buckets = int64(len(streams)), int64(len(buckets))
			if e.Supports(persistence.Dispatch) {
				for _, err := range e.Undispatched(ctx) {
					if err != nil {
						return err
					}
					st.Undispatched++
				}
			} else {
				st.Undispatched = -1
			}
			if a.jsonOut() {
				return a.emit(st)
			}
			t := a.newTable("", "")
			t.AppendRow([]any{"engine", st.Engine})
			if st.Bucket != "" {
				t.AppendRow([]any{"bucket", st.Bucket})
			}
			t.AppendRow([]any{"head checkpoint", st.Head})
			t.AppendRow([]any{"commits", st.Commits})
			t.AppendRow([]any{"events", st.Events})
			t.AppendRow([]any{"streams", st.Streams})
			t.AppendRow([]any{"buckets", st.Buckets})
			t.AppendRow([]any{"payload bytes", st.Bytes})
			if st.Undispatched < 0 {
				t.AppendRow([]any{"undispatched", "(the engine does not track dispatch)"})
			} else {
				t.AppendRow([]any{"undispatched", st.Undispatched})
			}
			t.Render()
			return nil
		},
	}
}

// readAll reads the engine's commits after a checkpoint, of --bucket if
// given.
func (a *app) readAll(ctx context.Context, e *persistence.Engine, after int64) iter.Seq2[persistence.Commit, error] {
	if a.bucket != "" {
		return e.ReadBucket(ctx, a.bucket, after)
	}
	return e.ReadAll(ctx, after)
}

// streamBucket is the bucket of the stream commands: --bucket or "default".
func (a *app) streamBucket() string {
	if a.bucket == "" {
		return eventstore.DefaultBucket
	}
	return a.bucket
}

func (a *app) streamCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stream",
		Short: "Show or delete one stream",
		Example: `  eventstore stream show account-1
  eventstore stream delete account-1 --bucket tenant-7 --yes`,
	}
	var from, to int
	show := &cobra.Command{
		Use:   "show STREAM",
		Short: "Print a stream's commits and events, decoded",
		Long: `show prints the commits of one stream (of --bucket, default "default") holding
events in the revision range, with their events decoded by the serializer
options. Bodies of types the program registered come back as generic JSON.`,
		Example: `  eventstore stream show account-1
  eventstore stream show account-1 --from-rev 10 --to-rev 20 --output json`,
		Args: args(1, "a stream ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from < 0 || to < 0 || (to > 0 && to < from) {
				return usagef("--from-rev %d --to-rev %d: want 0 <= from <= to (0: unbounded)", from, to)
			}
			ctx := cmd.Context()
			s, done, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer done()
			n := 0
			for c, err := range s.Bucket(a.streamBucket()).StreamCommits(ctx, args[0], from, to) {
				if err != nil {
					return err
				}
				n++
				if err := a.writeCommit(&c); err != nil {
					return err
				}
			}
			if n == 0 {
				return fmt.Errorf("bucket %q has no stream %q with events in that revision range: check the ID and --bucket ('eventstore tail' lists commits)", a.streamBucket(), args[0])
			}
			return nil
		},
	}
	show.Flags().IntVar(&from, "from-rev", 0, "first revision (0: the first)")
	show.Flags().IntVar(&to, "to-rev", 0, "last revision (0: the last)")
	var yes bool
	del := &cobra.Command{
		Use:     "delete STREAM --yes",
		Short:   "Delete a stream, its commits and snapshots, for good",
		Example: "  eventstore stream delete account-1 --yes",
		Args:    args(1, "a stream ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needYes(yes, "deleting stream "+args[0]); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, done, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer done()
			if err := s.Bucket(a.streamBucket()).DeleteStream(ctx, args[0]); err != nil {
				return err
			}
			if a.jsonOut() {
				return a.emit(map[string]any{"deleted": args[0], "bucket": a.streamBucket()})
			}
			a.printf("deleted stream %q of bucket %q\n", args[0], a.streamBucket())
			return nil
		},
	}
	del.Flags().BoolVar(&yes, "yes", false, "confirm: the stream is deleted for good")
	cmd.AddCommand(show, del)
	return cmd
}

// stopped reports whether ctx is done or past its deadline, or err says
// that ctx's deadline ended the call. A driver may give up on the deadline
// a moment before ctx says so (a socket deadline set from it; the MongoDB
// driver sends nothing with less than a round trip left), and the store
// then reports the caller's deadline, not an outage: following ends as
// cleanly as on Ctrl-C.
func stopped(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && (!time.Now().Before(d) ||
		errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, eventstore.ErrStorageUnavailable))
}

func (a *app) tailCmd() *cobra.Command {
	var after int64
	var follow bool
	var count int
	var poll time.Duration
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print commits in checkpoint order, and follow new ones as they land",
		Long: `tail prints the commits after a checkpoint (--after) in checkpoint order,
decoded, as text or JSON lines. Without --after it prints every commit, or the
last --count ones.

With --follow it keeps polling for new commits (from the head, or from --after)
until interrupted (Ctrl-C) or --count commits were printed; no commit is missed
or printed twice, even when concurrent writers land out of order. --bucket
restricts it to one bucket.`,
		Example: `  eventstore tail --count 10
  eventstore tail --follow                                     # new commits as they land
  eventstore tail --after 1200 --follow --output json | jq .stream
  eventstore tail --bucket tenant-7 --follow`,
		Args: args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if after < 0 || count < 0 || poll <= 0 {
				return usagef("--after %d --count %d --poll %v: want non-negative numbers and a positive poll interval", after, count, poll)
			}
			ctx := cmd.Context()
			s, done, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer done()
			from := after
			if !cmd.Flags().Changed("after") && (count > 0 || follow) {
				// --count alone: the last count commits, from count
				// checkpoints back from the head (checkpoints may have
				// gaps: then fewer are shown); --follow: from the head
				head, err := s.Engine().Head(ctx)
				if err != nil {
					if follow && stopped(ctx, err) {
						return nil // interrupted before it began
					}
					return err
				}
				from = head
				if !follow {
					from = max(head-int64(count), 0)
				}
			}
			n := 0
			for {
				seq := s.Commits(ctx, from)
				if a.bucket != "" {
					seq = s.Bucket(a.bucket).Commits(ctx, from)
				}
				for c, err := range seq {
					if err != nil {
						if follow && stopped(ctx, err) {
							return nil
						}
						return err
					}
					if err := a.writeCommit(&c); err != nil {
						return err
					}
					from = c.Checkpoint
					n++
					if count > 0 && n >= count {
						return nil
					}
				}
				if !follow {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil // Ctrl-C ends following: not an error
				case <-time.After(poll):
				}
			}
		},
	}
	f := cmd.Flags()
	f.Int64Var(&after, "after", 0, "print the commits after this checkpoint (default: from the start; with --follow, from the head)")
	f.BoolVarP(&follow, "follow", "f", false, "keep printing new commits until interrupted")
	f.IntVarP(&count, "count", "n", 0, "stop after this many commits (without --after or --follow: the last N)")
	f.DurationVar(&poll, "poll", 250*time.Millisecond, "with --follow, how often to look for new commits")
	return cmd
}
