package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"

	"github.com/goeventstore/eventstore"
)

// jsonOut reports whether --output json was asked for.
func (a *app) jsonOut() bool { return a.output == "json" }

// emit writes v as one line of JSON.
func (a *app) emit(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = a.stdout.Write(b)
	return err
}

// printf writes text output.
func (a *app) printf(format string, args ...any) { fmt.Fprintf(a.stdout, format, args...) }

// newTable returns a table that renders to stdout in a plain style.
func (a *app) newTable(header ...any) table.Writer {
	t := table.NewWriter()
	t.SetOutputMirror(a.stdout)
	t.SetStyle(table.StyleLight)
	t.AppendHeader(table.Row(header))
	return t
}

// commitJSON is a decoded commit as tail and stream show print it.
type commitJSON struct {
	Checkpoint     int64          `json:"checkpoint"`
	Bucket         string         `json:"bucket"`
	Stream         string         `json:"stream"`
	CommitSequence int            `json:"commit_sequence"`
	StreamRevision int            `json:"stream_revision"`
	CommitID       string         `json:"commit_id"`
	CommitStamp    string         `json:"commit_stamp"`
	Headers        map[string]any `json:"headers,omitempty"`
	Events         []eventJSON    `json:"events"`
}

type eventJSON struct {
	Revision int            `json:"revision"`
	Headers  map[string]any `json:"headers,omitempty"`
	Body     any            `json:"body"`
}

const stampLayout = "2006-01-02T15:04:05.000000Z07:00"

func toJSON(c *eventstore.Commit) commitJSON {
	j := commitJSON{Checkpoint: c.Checkpoint, Bucket: c.BucketID, Stream: c.StreamID,
		CommitSequence: c.CommitSequence, StreamRevision: c.StreamRevision, CommitID: c.CommitID.String(),
		CommitStamp: c.CommitStamp.UTC().Format(stampLayout), Headers: c.Headers}
	first := c.FirstRevision()
	for i, e := range c.Events {
		j.Events = append(j.Events, eventJSON{Revision: first + i, Headers: e.Headers, Body: e.Body})
	}
	return j
}

// writeCommit prints one commit: a JSON line, or a header line and one
// line an event.
func (a *app) writeCommit(c *eventstore.Commit) error {
	j := toJSON(c)
	if a.jsonOut() {
		return a.emit(j)
	}
	return writeCommitText(a.stdout, &j)
}

func writeCommitText(w io.Writer, j *commitJSON) error {
	var b strings.Builder
	fmt.Fprintf(&b, "checkpoint %d  %s  %s/%s  sequence %d  revision %d  commit %s",
		j.Checkpoint, j.CommitStamp, j.Bucket, j.Stream, j.CommitSequence, j.StreamRevision, j.CommitID)
	if len(j.Headers) > 0 {
		fmt.Fprintf(&b, "  headers %s", compact(j.Headers))
	}
	b.WriteByte('\n')
	for _, e := range j.Events {
		fmt.Fprintf(&b, "  %d  %s", e.Revision, compact(e.Body))
		if len(e.Headers) > 0 {
			fmt.Fprintf(&b, "  headers %s", compact(e.Headers))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// compact renders v as compact JSON, or with %v if it cannot.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// rate renders n things in d as a rate.
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f/s", float64(n)/d.Seconds())
}
