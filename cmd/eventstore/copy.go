package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/spf13/cobra"

	"github.com/goeventstore/eventstore/persistence"
)

// copyFlags are the flags copy and import share.
type copyFlags struct {
	after     int64
	resume    bool
	verify    bool
	markAll   bool
	markNone  bool
	snapshots bool
	mapPath   string
	markers   int
}

func (f *copyFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Int64Var(&f.after, "after", 0, "copy only the commits after this source checkpoint")
	fl.BoolVar(&f.resume, "resume", false, "continue the copy recorded in the checkpoint map (after Ctrl-C or a crash)")
	fl.BoolVar(&f.verify, "verify", false, "afterwards, compare source and target stream by stream")
	fl.BoolVar(&f.markAll, "mark-dispatched", false, "mark every copied commit dispatched in the target (default: only those dispatched at the source)")
	fl.BoolVar(&f.markNone, "redispatch", false, "leave every copied commit undispatched, so that the target's programs dispatch them all again")
	fl.BoolVar(&f.snapshots, "snapshots", false, "also copy each stream's latest snapshot")
	fl.StringVar(&f.mapPath, "map", "eventstore-checkpoints.jsonl", "the checkpoint map to write (source checkpoint to target checkpoint, JSON lines)")
	fl.IntVar(&f.markers, "markers", 4, "how many goroutines mark copied commits dispatched beside the one writer (0: the writer marks them itself)")
}

func (a *app) copyCmd() *cobra.Command {
	var from, to string
	var f copyFlags
	cmd := &cobra.Command{
		Use:     "copy --from URL --to URL",
		Aliases: []string{"migrate"},
		Short:   "Copy every commit from one store to another, any engines, resumably",
		Long: `copy copies the commits of one store (--from) into another (--to), at payload
level: commit IDs, stamps, sequences, revisions and payloads stay exactly as
they are, so no key or serializer option is needed. One writer copies in
checkpoint order, so the target's order is the source's.

It is idempotent: a commit the target already holds is skipped, not an error.
It records each commit it copied in a checkpoint map (--map, JSON lines of
{"source":S,"target":T}), which is also where an interrupted copy continues
with --resume: after Ctrl-C (it stops between two commits) or a crash. Target
checkpoints differ from the source's: consumers that saved a source checkpoint
S move to the target checkpoint of the map's last line with source <= S.

Commits dispatched at the source are marked dispatched in the target, so that
the target's programs do not dispatch them all again; --mark-dispatched marks
every copied commit, --redispatch none. --snapshots copies each stream's latest snapshot.
--verify then compares source and target stream by stream. --bucket copies one
bucket. Progress: a bar on a terminal, a line every few seconds otherwise.`,
		Example: `  eventstore copy --from mysql://root@127.0.0.1:3306/events --to mongodb://127.0.0.1:27017/events --verify
  eventstore copy --from mysql://root@127.0.0.1:3306/events --to mongodb://127.0.0.1:27017/events --resume
  eventstore migrate --from memory:// --to mysql://root@127.0.0.1:3306/events --snapshots --map moved.jsonl`,
		Args: args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usagef("copy needs --from URL and --to URL")
			}
			if from == to {
				return usagef("--from and --to name the same store")
			}
			if f.after < 0 {
				return usagef("--after %d: must not be negative", f.after)
			}
			ctx := cmd.Context()
			src, err := a.openEngine(ctx, from)
			if err != nil {
				return fmt.Errorf("source: %w", err)
			}
			defer a.closeEngine(src)
			dst, err := a.openEngine(ctx, to)
			if err != nil {
				return fmt.Errorf("target: %w", err)
			}
			defer a.closeEngine(dst)
			if err := dst.Initialize(ctx); err != nil {
				return fmt.Errorf("target: %w", err)
			}
			head, err := src.Head(ctx)
			if err != nil {
				return fmt.Errorf("source: %w", err)
			}
			items := func(ctx context.Context, after int64) iter.Seq2[item, error] { return a.engineItems(ctx, src, after) }
			return a.transfer(ctx, src.Name(), head, dst, &f, items, func(ctx context.Context) (iter.Seq2[[2]string, error], func(ctx context.Context, b, s string) (persistence.Snapshot, error)) {
				return a.streamsOf(ctx, src, f.after), func(ctx context.Context, b, s string) (persistence.Snapshot, error) {
					return src.LatestSnapshot(ctx, b, s, 0)
				}
			}, func(ctx context.Context) error { return a.verify(ctx, src, dst, f.after) })
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the source store's URL")
	cmd.Flags().StringVar(&to, "to", "", "the target store's URL (initialized if need be)")
	f.add(cmd)
	return cmd
}

// transfer runs a copy or an import into dst: commits from items (after
// a checkpoint), then snapshots, then verification, as the flags ask.
func (a *app) transfer(ctx context.Context, srcName string, head int64, dst *persistence.Engine, f *copyFlags,
	items func(ctx context.Context, after int64) iter.Seq2[item, error],
	snaps func(ctx context.Context) (iter.Seq2[[2]string, error], func(ctx context.Context, b, s string) (persistence.Snapshot, error)),
	verify func(ctx context.Context) error) error {
	if f.markers < 0 {
		return usagef("--markers %d: must not be negative", f.markers)
	}
	if f.markAll && f.markNone {
		return usagef("--mark-dispatched and --redispatch contradict each other: give one")
	}
	if f.snapshots && !dst.Supports(persistence.Snapshots) {
		return fmt.Errorf("--snapshots: the target's %s engine keeps no snapshots: %w", dst.Name(), persistence.ErrUnsupported)
	}
	m, err := openMap(a.path(f.mapPath), f.resume, srcName, dst.Name(), f.after)
	if err != nil {
		return err
	}
	after := max(f.after, m.last)
	w := &writer{dst: dst, m: m, markAll: f.markAll, markNone: f.markNone, markers: f.markers, base: f.after, wrote: a.wrote}
	// EVENTSTORE_TEST_PACE slows the writer, so that tests can stop a copy
	// midway on any machine; it is not for operators.
	w.pace, _ = time.ParseDuration(a.getenv("EVENTSTORE_TEST_PACE"))
	w.p = a.newProgress("copy", max(head-f.after, 0))
	w.p.Set(after - f.after)
	start := time.Now()
	err = w.run(ctx, items(ctx, after))
	w.p.Set(m.last - f.after)
	w.p.Done()
	if cerr := m.close(); err == nil && cerr != nil {
		err = cerr
	}
	sum := w.summary(f.mapPath, time.Since(start))
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted after %d commits (up to source checkpoint %d, recorded in %s): run the same command with --resume to continue: %w", sum.Copied+sum.Skipped, sum.Last, f.mapPath, err)
		}
		return fmt.Errorf("%w\n(%d commits copied up to source checkpoint %d, recorded in %s: fix the cause and run the same command with --resume)", err, sum.Copied+sum.Skipped, sum.Last, f.mapPath)
	}
	nsnap := 0
	if f.snapshots {
		streams, latest := snaps(ctx)
		wctx := context.WithoutCancel(ctx)
		for k, err := range streams {
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				return fmt.Errorf("copying snapshots (the commits are copied; run again with --resume --snapshots): %w", err)
			}
			s, err := latest(ctx, k[0], k[1])
			if errors.Is(err, persistence.ErrSnapshotNotFound) {
				continue
			}
			if err == nil {
				err = dst.AddSnapshot(wctx, s)
			}
			if err != nil {
				return fmt.Errorf("copying the snapshot of bucket %q stream %q: %w", k[0], k[1], err)
			}
			nsnap++
		}
	}
	if a.jsonOut() {
		if err := a.emit(map[string]any{"summary": sum, "snapshots": nsnap}); err != nil {
			return err
		}
	} else {
		a.printf("copied %d commits (%d were there already), marked %d dispatched, %d snapshots, in %s (%s); checkpoint map: %s\n",
			sum.Copied, sum.Skipped, sum.Marked, nsnap, time.Since(start).Round(time.Millisecond), sum.Rate, f.mapPath)
	}
	if f.verify {
		return verify(ctx)
	}
	return nil
}

// engineItems reads the source's commits after a checkpoint, with their
// dispatch state.
func (a *app) engineItems(ctx context.Context, src *persistence.Engine, after int64) iter.Seq2[item, error] {
	return func(yield func(item, error) bool) {
		undispatched := map[int64]bool{}
		if src.Supports(persistence.Dispatch) {
			for c, err := range src.UndispatchedAfter(ctx, after) {
				if err != nil {
					yield(item{}, err)
					return
				}
				undispatched[c.Checkpoint] = true
			}
		}
		for c, err := range a.readAll(ctx, src, after) {
			if err != nil {
				yield(item{}, err)
				return
			}
			if !yield(item{c: c, dispatched: !undispatched[c.Checkpoint]}, nil) {
				return
			}
		}
	}
}

// streamsOf yields the (bucket, stream) pairs of the source's commits
// after a checkpoint, each once.
func (a *app) streamsOf(ctx context.Context, e *persistence.Engine, after int64) iter.Seq2[[2]string, error] {
	return func(yield func([2]string, error) bool) {
		seen := map[[2]string]bool{}
		for c, err := range a.readAll(ctx, e, after) {
			if err != nil {
				yield([2]string{}, err)
				return
			}
			k := [2]string{c.BucketID, c.StreamID}
			if seen[k] {
				continue
			}
			seen[k] = true
			if !yield(k, nil) {
				return
			}
		}
	}
}

// verify compares source and target stream by stream: every source commit
// after the checkpoint must be in the target stream at the same sequence
// with the same commit ID, revision, stamp, event count and payload; when
// the whole store was copied (after 0) the target stream must hold nothing
// else.
func (a *app) verify(ctx context.Context, src, dst *persistence.Engine, after int64) error {
	var diffs []string
	streams := 0
	p := a.newProgress("verify", 0)
	defer p.Done()
	for k, err := range a.streamsOf(ctx, src, after) {
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		streams++
		p.Set(int64(streams))
		d, err := compareStream(ctx, src, dst, k[0], k[1], after)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		diffs = append(diffs, d...)
	}
	if a.jsonOut() {
		if err := a.emit(map[string]any{"verified_streams": streams, "differences": len(diffs)}); err != nil {
			return err
		}
	}
	if len(diffs) > 0 {
		for i, d := range diffs {
			if i == 20 {
				fmt.Fprintf(a.stderr, "... and %d more\n", len(diffs)-20)
				break
			}
			fmt.Fprintln(a.stderr, d)
		}
		return fmt.Errorf("verify: %d differences in %d streams: the target is not a copy of the source (run copy --resume to finish an interrupted copy)", len(diffs), streams)
	}
	if !a.jsonOut() {
		a.printf("verified %d streams: the target holds the same commits\n", streams)
	}
	return nil
}

func compareStream(ctx context.Context, src, dst *persistence.Engine, bucket, stream string, after int64) ([]string, error) {
	target := map[int]persistence.Commit{}
	for c, err := range dst.ReadStream(ctx, bucket, stream, 0, 0) {
		if err != nil {
			return nil, err
		}
		target[c.CommitSequence] = c
	}
	var diffs []string
	where := func(seq int) string { return fmt.Sprintf("bucket %q stream %q sequence %d", bucket, stream, seq) }
	n := 0
	for s, err := range src.ReadStream(ctx, bucket, stream, 0, 0) {
		if err != nil {
			return nil, err
		}
		if s.Checkpoint <= after {
			delete(target, s.CommitSequence)
			continue
		}
		n++
		t, ok := target[s.CommitSequence]
		delete(target, s.CommitSequence)
		switch {
		case !ok:
			diffs = append(diffs, where(s.CommitSequence)+": missing in the target")
		case t.CommitID != s.CommitID:
			diffs = append(diffs, fmt.Sprintf("%s: commit %s in the target, %s in the source", where(s.CommitSequence), t.CommitID, s.CommitID))
		case t.StreamRevision != s.StreamRevision || t.EventCount != s.EventCount || !t.CommitStamp.Equal(s.CommitStamp):
			diffs = append(diffs, fmt.Sprintf("%s: revision/events/stamp %d/%d/%s in the target, %d/%d/%s in the source", where(s.CommitSequence),
				t.StreamRevision, t.EventCount, t.CommitStamp.Format(stampLayout), s.StreamRevision, s.EventCount, s.CommitStamp.Format(stampLayout)))
		case !bytes.Equal(t.Payload, s.Payload):
			diffs = append(diffs, where(s.CommitSequence)+": payloads differ")
		}
	}
	if after == 0 {
		for seq := range target {
			diffs = append(diffs, where(seq)+": in the target only")
		}
	}
	return diffs, nil
}
