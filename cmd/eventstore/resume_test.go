package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/goeventstore/eventstore/persistence"
)

// readMap returns the source-to-target pairs of a checkpoint map.
func readMap(t *testing.T, path string) []mapLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []mapLine
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan(); n++ {
		if n == 0 {
			continue
		}
		var l mapLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("map line %d %q: %v", n+1, sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

// checkMap checks that a map pairs every source commit, in order, with the
// target commit of the same commit ID, and returns how many lines it has.
func checkMap(t *testing.T, path string, src, dst *persistence.Engine) int {
	t.Helper()
	ctx := context.Background()
	byCP := map[int64]persistence.Commit{}
	for c, err := range dst.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		byCP[c.Checkpoint] = c
	}
	lines := readMap(t, path)
	i := 0
	for c, err := range src.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if i == len(lines) {
			break
		}
		l := lines[i]
		if l.Source != c.Checkpoint {
			t.Fatalf("map line %d: source %d, want %d (every source commit once, in order)", i+2, l.Source, c.Checkpoint)
		}
		if tc, ok := byCP[l.Target]; !ok || tc.CommitID != c.CommitID {
			t.Fatalf("map line %d: target %d does not hold commit %s", i+2, l.Target, c.CommitID)
		}
		i++
	}
	if i != len(lines) {
		t.Fatalf("map has %d lines for %d source commits", len(lines), i)
	}
	return len(lines)
}

func count(t *testing.T, e *persistence.Engine) int {
	t.Helper()
	n := 0
	for _, err := range e.ReadAll(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// An interrupted copy (Ctrl-C: the context is cancelled) stops between two
// commits with everything written recorded in the map; --resume finishes
// it; a map that lost its last lines in a crash (and holds half a line) is
// completed on resume from the commits found in the target.
func TestCopyInterruptedResumes(t *testing.T) {
	ms := &memStores{}
	src, dst := ms.get(t, "src"), ms.get(t, "dst")
	for i := range 30 {
		if err := seed(src, "default", "s"+string(rune('a'+i%7)), 10, nil); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	mapPath := filepath.Join(dir, "map.jsonl")
	args := []string{"copy", "-q", "--from", "memory://src", "--to", "memory://dst", "--map", mapPath}

	ctx, cancel := context.WithCancel(context.Background())
	a, _, errb := testApp(ms, dir, func(string) string { return "" })
	var n atomic.Int64
	a.wrote = func() {
		if n.Add(1) == 100 {
			cancel()
		}
	}
	if code := a.run(ctx, args); code != exitError {
		t.Fatalf("interrupted copy: exit %d, want 1\n%s", code, errb)
	}
	if !strings.Contains(errb.String(), "interrupted after 100 commits") || !strings.Contains(errb.String(), "--resume") {
		t.Fatalf("interrupted copy says:\n%s", errb)
	}
	if got := count(t, dst); got != 100 {
		t.Fatalf("target holds %d commits after an interruption at 100", got)
	}
	if got := checkMap(t, mapPath, src, dst); got != 100 {
		t.Fatalf("map holds %d lines after 100 commits", got)
	}

	// a crash: the last 30 lines were never flushed, and half a line was
	data, err := os.ReadFile(mapPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	kept := strings.Join(lines[:len(lines)-1-30], "") + `{"source":7`
	if err := os.WriteFile(mapPath, []byte(kept), 0o644); err != nil {
		t.Fatal(err)
	}

	a, out, errb := testApp(ms, dir, func(string) string { return "" })
	if code := a.run(context.Background(), append(args, "--resume", "--verify", "-o", "json")); code != exitOK {
		t.Fatalf("resume: exit %d\n%s", code, errb)
	}
	if !strings.Contains(out.String(), `"copied":200,"already_there":30,`) || !strings.Contains(out.String(), `"differences":0`) {
		t.Fatalf("resume reported:\n%s", out)
	}
	if got := checkMap(t, mapPath, src, dst); got != 300 {
		t.Fatalf("map holds %d lines after the copy of 300", got)
	}
	if got := count(t, dst); got != 300 {
		t.Fatalf("target holds %d commits, want 300", got)
	}
}

// On a terminal, copy draws a progress bar (count, rate, ETA) on stderr;
// elsewhere it writes plain lines; --quiet writes nothing.
func TestProgressOutput(t *testing.T) {
	ms := &memStores{}
	for i := range 10 {
		if err := seed(ms.get(t, "src"), "default", fmt.Sprint("s", i), 30, nil); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		tty   bool
		quiet bool
		want  string
	}{
		{"terminal", true, false, "300/300"},
		{"lines", false, false, "copy: 300 of 300 (100%)"},
		{"quiet", false, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _, errb := testApp(ms, dir, func(string) string { return "" })
			a.tty = tc.tty
			args := []string{"copy", "--from", "memory://src", "--to", "memory://" + tc.name, "--map", tc.name + ".jsonl"}
			if tc.quiet {
				args = append(args, "-q")
			}
			if code := a.run(context.Background(), args); code != 0 {
				t.Fatalf("exit %d\n%s", code, errb)
			}
			if tc.want == "" && errb.Len() != 0 || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("stderr:\n%q", errb)
			}
			if testing.Verbose() {
				t.Logf("stderr: %q", errb)
			}
		})
	}
}

// Two copies never write one checkpoint map: the second is told to wait
// or pick another.
func TestMapInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "map.jsonl")
	m, err := openMap(path, false, "memory", "memory", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	if _, err := openMap(path, true, "memory", "memory", 0); err == nil || !strings.Contains(err.Error(), "in use by another copy") {
		t.Fatalf("second open: %v", err)
	}
}

// An interrupted export leaves no file behind, and says so.
func TestExportInterrupted(t *testing.T) {
	ms := &memStores{}
	for i := range 10 {
		if err := seed(ms.get(t, "src"), "default", fmt.Sprint("s", i), 10, nil); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	a, _, errb := testApp(ms, dir, func(string) string { return "" })
	var n atomic.Int64
	a.wrote = func() {
		if n.Add(1) == 50 {
			cancel()
		}
	}
	if code := a.run(ctx, []string{"export", "-q", "--store", "memory://src", "--to", "out.jsonl"}); code != exitError {
		t.Fatalf("exit %d\n%s", code, errb)
	}
	if !strings.Contains(errb.String(), "nothing written to") {
		t.Fatalf("interrupted export says:\n%s", errb)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("an interrupted export left %v", entries)
	}
}
