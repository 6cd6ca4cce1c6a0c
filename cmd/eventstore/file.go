package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/goeventstore/eventstore/persistence"
)

// The export format: JSON lines (gzip-compressed if the file name ends in
// .gz). The first line is the header, then one line a commit in checkpoint
// order, then (with --snapshots) one line a snapshot, then the end line,
// whose count tells a whole file from a truncated one:
//
//	{"format":"eventstore-export","version":1,"engine":"mysql","after":0,"exported_at":"2026-12-01T10:00:00Z"}
//	{"kind":"commit","checkpoint":1,"bucket":"default","stream":"account-1","stream_revision":2,"commit_id":"0193...","commit_sequence":1,"commit_stamp":"2026-12-01T09:59:58.123456Z","event_count":2,"dispatched":true,"payload":"BASE64"}
//	{"kind":"snapshot","bucket":"default","stream":"account-1","stream_revision":2,"payload":"BASE64"}
//	{"kind":"end","commits":1,"snapshots":1}
//
// Payloads are the stored bytes (base64), as the store's serializer wrote
// them: an export is as private as the store (encrypted payloads stay so).
const exportFormat = "eventstore-export"

type exportHeader struct {
	Format     string `json:"format"`
	Version    int    `json:"version"`
	Engine     string `json:"engine"`
	After      int64  `json:"after"`
	ExportedAt string `json:"exported_at"`
}

type exportLine struct {
	Kind           string `json:"kind"`
	Checkpoint     int64  `json:"checkpoint,omitempty"`
	Bucket         string `json:"bucket,omitempty"`
	Stream         string `json:"stream,omitempty"`
	StreamRevision int    `json:"stream_revision,omitempty"`
	CommitID       string `json:"commit_id,omitempty"`
	CommitSequence int    `json:"commit_sequence,omitempty"`
	CommitStamp    string `json:"commit_stamp,omitempty"`
	EventCount     int    `json:"event_count,omitempty"`
	Dispatched     *bool  `json:"dispatched,omitempty"`
	Payload        []byte `json:"payload,omitempty"`
	Commits        *int64 `json:"commits,omitempty"`
	Snapshots      *int64 `json:"snapshots,omitempty"`
}

func commitLine(c *persistence.Commit, dispatched bool) exportLine {
	return exportLine{Kind: "commit", Checkpoint: c.Checkpoint, Bucket: c.BucketID, Stream: c.StreamID,
		StreamRevision: c.StreamRevision, CommitID: c.CommitID.String(), CommitSequence: c.CommitSequence,
		CommitStamp: c.CommitStamp.UTC().Format(stampLayout), EventCount: c.EventCount, Dispatched: &dispatched, Payload: c.Payload}
}

func (a *app) exportCmd() *cobra.Command {
	var to string
	var after int64
	var snapshots bool
	cmd := &cobra.Command{
		Use:   "export --to FILE.jsonl[.gz]",
		Short: "Write the store's commits (and snapshots) to a JSON-lines file",
		Long: `export writes every commit after --after (of --bucket if given), with its
dispatch state, to FILE as JSON lines, gzip-compressed if FILE ends in .gz;
--snapshots adds each stream's latest snapshot. Payloads are exported as
stored (base64), so no key is needed and encrypted payloads stay encrypted.
The file is written under FILE.partial and renamed at the end: an interrupted
export leaves no FILE (run it again). The format is in 'eventstore help import'.`,
		Example: `  eventstore export --to events.jsonl.gz
  eventstore export --to tenant-7.jsonl --bucket tenant-7 --snapshots`,
		Args: args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return usagef("export needs --to FILE")
			}
			if after < 0 {
				return usagef("--after %d: must not be negative", after)
			}
			ctx := cmd.Context()
			url, err := a.storeURL()
			if err != nil {
				return err
			}
			src, err := a.openEngine(ctx, url)
			if err != nil {
				return err
			}
			defer a.closeEngine(src)
			if snapshots && !src.Supports(persistence.Snapshots) {
				return fmt.Errorf("--snapshots: the %s engine keeps no snapshots: %w", src.Name(), persistence.ErrUnsupported)
			}
			head, err := src.Head(ctx)
			if err != nil {
				return err
			}
			return a.export(ctx, src, a.path(to), after, head, snapshots)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the file to write (.gz: compressed)")
	cmd.Flags().Int64Var(&after, "after", 0, "export only the commits after this checkpoint")
	cmd.Flags().BoolVar(&snapshots, "snapshots", false, "also export each stream's latest snapshot")
	return cmd
}

func (a *app) export(ctx context.Context, src *persistence.Engine, path string, after, head int64, snapshots bool) (err error) {
	tmp := path + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	var w io.Writer = bw
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw = gzip.NewWriter(bw)
		w = zw
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(exportHeader{Format: exportFormat, Version: 1, Engine: src.Name(), After: after,
		ExportedAt: time.Now().UTC().Format(time.RFC3339)}); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	p := a.newProgress("export", max(head-after, 0))
	var commits, snaps int64
	start := time.Now()
	for it, err := range a.engineItems(ctx, src, after) {
		if err == nil {
			err = ctx.Err() // Ctrl-C: stop at once, not at the end of the page
		}
		if err != nil {
			p.Done()
			return fmt.Errorf("export (nothing written to %s): %w", path, err)
		}
		if err := enc.Encode(commitLine(&it.c, it.dispatched)); err != nil {
			p.Done()
			return fmt.Errorf("export: %w", err)
		}
		commits++
		if a.wrote != nil {
			a.wrote()
		}
		p.Set(it.c.Checkpoint - after)
	}
	p.Done()
	if snapshots {
		for k, err := range a.streamsOf(ctx, src, after) {
			if err != nil {
				return fmt.Errorf("export (nothing written to %s): %w", path, err)
			}
			s, err := src.LatestSnapshot(ctx, k[0], k[1], 0)
			if errors.Is(err, persistence.ErrSnapshotNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("export (nothing written to %s): %w", path, err)
			}
			if err := enc.Encode(exportLine{Kind: "snapshot", Bucket: s.BucketID, Stream: s.StreamID, StreamRevision: s.StreamRevision, Payload: s.Payload}); err != nil {
				return err
			}
			snaps++
		}
	}
	if err := enc.Encode(exportLine{Kind: "end", Commits: &commits, Snapshots: &snaps}); err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if a.jsonOut() {
		return a.emit(map[string]any{"exported": commits, "snapshots": snaps, "file": path})
	}
	a.printf("exported %d commits and %d snapshots to %s in %s\n", commits, snaps, path, time.Since(start).Round(time.Millisecond))
	return nil
}

func (a *app) importCmd() *cobra.Command {
	var from string
	var f copyFlags
	cmd := &cobra.Command{
		Use:   "import --from FILE",
		Short: "Write the commits (and snapshots) of an export file into the store, resumably",
		Long: `import writes an export file into the store (--store, initialized if need be)
with the same guarantees as copy: commit IDs, stamps, sequences and payloads
kept, commits already there skipped, a checkpoint map (--map) from the file's
checkpoints to the store's, --resume after Ctrl-C or a crash, the file's
dispatch state kept unless --mark-dispatched. --verify compares the file with
the store stream by stream.

The whole file is checked first: a damaged or truncated file is refused with
the number of the bad line, and nothing is written.

` + formatDoc,
		Example: `  eventstore import --from events.jsonl.gz --store mongodb://127.0.0.1:27017/events
  eventstore import --from events.jsonl.gz --resume --verify`,
		Args: args(0, ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usagef("import needs --from FILE")
			}
			ctx := cmd.Context()
			from = a.path(from)
			hdr, head, err := checkExport(from)
			if err != nil {
				return err
			}
			url, err := a.storeURL()
			if err != nil {
				return err
			}
			dst, err := a.openEngine(ctx, url)
			if err != nil {
				return err
			}
			defer a.closeEngine(dst)
			if err := dst.Initialize(ctx); err != nil {
				return err
			}
			var mem *persistence.Engine // --verify: the file as a store, to compare with
			if f.verify {
				if mem, err = a.open(ctx, "memory://"); err != nil {
					return err
				}
				defer a.closeEngine(mem)
			}
			items := func(ctx context.Context, after int64) iter.Seq2[item, error] { return fileItems(from, after, nil) }
			snaps := func(ctx context.Context) (iter.Seq2[[2]string, error], func(ctx context.Context, b, s string) (persistence.Snapshot, error)) {
				m := map[[2]string]persistence.Snapshot{}
				var keys [][2]string
				for it, err := range fileItems(from, 0, func(s persistence.Snapshot) {
					k := [2]string{s.BucketID, s.StreamID}
					if _, ok := m[k]; !ok {
						keys = append(keys, k)
					}
					m[k] = s
				}) {
					_, _ = it, err
				}
				seq := func(yield func([2]string, error) bool) {
					for _, k := range keys {
						if !yield(k, nil) {
							return
						}
					}
				}
				return seq, func(_ context.Context, b, s string) (persistence.Snapshot, error) {
					if x, ok := m[[2]string{b, s}]; ok {
						return x, nil
					}
					return persistence.Snapshot{}, persistence.ErrSnapshotNotFound
				}
			}
			verify := func(ctx context.Context) error {
				for it, err := range fileItems(from, f.after, nil) {
					if err != nil {
						return err
					}
					at := it.c.CommitAttempt
					if _, err := mem.Commit(ctx, &at); err != nil {
						return fmt.Errorf("verify: loading the file: %w", err)
					}
				}
				return a.verify(ctx, mem, dst, 0)
			}
			return a.transfer(ctx, "file "+filepath.Base(from)+" ("+hdr.Engine+")", head, dst, &f, items, snaps, verify)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the export file (.gz: compressed)")
	f.add(cmd)
	return cmd
}

const formatDoc = `The export format (JSON lines; gzip if the name ends in .gz):
  line 1:  {"format":"eventstore-export","version":1,"engine":"mysql","after":0,"exported_at":"..."}
  commits: {"kind":"commit","checkpoint":N,"bucket":B,"stream":S,"stream_revision":R,
            "commit_id":UUID,"commit_sequence":Q,"commit_stamp":RFC3339 (UTC, microseconds),
            "event_count":E,"dispatched":true|false,"payload":BASE64}   in checkpoint order
  then:    {"kind":"snapshot","bucket":B,"stream":S,"stream_revision":R,"payload":BASE64}
  last:    {"kind":"end","commits":N,"snapshots":M}`

// openExport opens an export file for reading, decompressing .gz files.
func openExport(path string) (io.Reader, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, usagef("import: %v", err)
	}
	var r io.Reader = bufio.NewReaderSize(f, 256<<10)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("import %s: not a gzip file (%v): is it compressed? remove .gz from the name if not", path, err)
		}
		r = zr
	}
	return r, func() { f.Close() }, nil
}

// checkExport reads the whole file and checks every line; it returns the
// header and the last commit checkpoint.
func checkExport(path string) (exportHeader, int64, error) {
	var hdr exportHeader
	var last int64
	for it, err := range readExport(path, &hdr, nil) {
		if err != nil {
			return hdr, 0, err
		}
		last = it.c.Checkpoint
	}
	return hdr, last, nil
}

// fileItems yields the commits of an export file after a checkpoint;
// snapshot lines go to onSnap.
func fileItems(path string, after int64, onSnap func(persistence.Snapshot)) iter.Seq2[item, error] {
	return func(yield func(item, error) bool) {
		var hdr exportHeader
		for it, err := range readExport(path, &hdr, onSnap) {
			if err != nil {
				yield(item{}, err)
				return
			}
			if it.c.Checkpoint <= after {
				continue
			}
			if !yield(it, nil) {
				return
			}
		}
	}
}

// readExport parses an export file line by line, checking each, and yields
// its commits. A bad line ends it with an error naming the line.
func readExport(path string, hdr *exportHeader, onSnap func(persistence.Snapshot)) iter.Seq2[item, error] {
	return func(yield func(item, error) bool) {
		r, closeFn, err := openExport(path)
		if err != nil {
			yield(item{}, err)
			return
		}
		defer closeFn()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 2*persistence.MaxPayloadSize+64<<10)
		n := 0
		bad := func(format string, args ...any) {
			yield(item{}, fmt.Errorf("import %s line %d: %s: the file is damaged; nothing was written", path, n, fmt.Sprintf(format, args...)))
		}
		var commits, snaps, lastCP int64
		ended := false
		for sc.Scan() {
			n++
			line := sc.Bytes()
			if n == 1 {
				if err := json.Unmarshal(line, hdr); err != nil || hdr.Format != exportFormat {
					bad("not an eventstore export header")
					return
				}
				if hdr.Version != 1 {
					bad("format version %d: this eventstore reads version 1", hdr.Version)
					return
				}
				continue
			}
			if ended {
				bad("a line after the end line")
				return
			}
			var l exportLine
			if err := json.Unmarshal(line, &l); err != nil {
				bad("%v", err)
				return
			}
			switch l.Kind {
			case "commit":
				id, err := persistence.ParseUUID(l.CommitID)
				if err != nil {
					bad("commit_id: %v", err)
					return
				}
				stamp, err := time.Parse(time.RFC3339Nano, l.CommitStamp)
				if err != nil {
					bad("commit_stamp: %v", err)
					return
				}
				if l.Checkpoint <= lastCP {
					bad("checkpoint %d after %d: commits must be in increasing checkpoint order", l.Checkpoint, lastCP)
					return
				}
				if l.Dispatched == nil {
					bad("no dispatched field")
					return
				}
				lastCP = l.Checkpoint
				c := persistence.Commit{Checkpoint: l.Checkpoint, CommitAttempt: persistence.CommitAttempt{
					BucketID: l.Bucket, StreamID: l.Stream, StreamRevision: l.StreamRevision, CommitID: id,
					CommitSequence: l.CommitSequence, CommitStamp: stamp.UTC(), EventCount: l.EventCount, Payload: l.Payload}}
				if err := persistence.ValidateAttempt(&c.CommitAttempt); err != nil {
					bad("%v", err)
					return
				}
				commits++
				if !yield(item{c: c, dispatched: *l.Dispatched}, nil) {
					return
				}
			case "snapshot":
				s := persistence.Snapshot{BucketID: l.Bucket, StreamID: l.Stream, StreamRevision: l.StreamRevision, Payload: l.Payload}
				if err := persistence.ValidateSnapshot(&s); err != nil {
					bad("%v", err)
					return
				}
				snaps++
				if onSnap != nil {
					onSnap(s)
				}
			case "end":
				if l.Commits == nil || *l.Commits != commits || l.Snapshots == nil || *l.Snapshots != snaps {
					bad("the end line counts other numbers of commits and snapshots than the file holds")
					return
				}
				ended = true
			default:
				bad("unknown kind %q", l.Kind)
				return
			}
		}
		if err := sc.Err(); err != nil {
			n++
			bad("%v", err)
			return
		}
		if n == 0 {
			bad("empty file")
			return
		}
		if !ended {
			n++
			bad("no end line: the file is truncated (was the export interrupted?)")
		}
	}
}
