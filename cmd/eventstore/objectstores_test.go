package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/goeventstore/eventstore/internal/testserver"
)

// TestCopyKilledIntoObjectStores copies 300 commits from MariaDB into S3
// (MinIO) and into Azure Tables (Azurite), kills the copy with SIGKILL in
// the middle, resumes it, and wants identical stores: every commit in the
// map and verified stream by stream, the source's undispatched commits
// exactly the target's. Then the same through an export file: an import
// into a fresh store of each, killed and resumed.
func TestCopyKilledIntoObjectStores(t *testing.T) {
	srcURL := testserver.Get(t, testserver.MariaDB).Isolated(t)
	src := openURL(t, srcURL)
	seedServer(t, src, 12, 25) // 300 commits, the first half dispatched
	file := filepath.Join(t.TempDir(), "events.jsonl.gz")
	if out, errs, code := runBin(t, "export", "-q", "--store", srcURL, "--to", file); code != 0 {
		t.Fatalf("export: exit %d\n%s%s", code, out, errs)
	}
	for _, kind := range []string{testserver.S3, testserver.Azure} {
		t.Run(kind, func(t *testing.T) {
			url := testserver.Get(t, kind).Isolated(t)
			dst := openURL(t, url)
			mapPath := filepath.Join(t.TempDir(), "map.jsonl")
			args := []string{"copy", "--from", srcURL, "--to", url, "--map", mapPath}
			p := startPaced(t, args...)
			waitLines(t, mapPath, 100)
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			p.wait()
			if n := count(t, dst); n < 100 || n >= 300 {
				t.Fatalf("after kill -9 the target holds %d commits: want the copy stopped midway", n)
			}
			out, errs, code := runBin(t, append(args, "--resume", "--verify", "-o", "json")...)
			if code != 0 || !strings.Contains(out, `"differences":0`) || !strings.Contains(out, `"verified_streams":12`) {
				t.Fatalf("resume --verify: exit %d\n%s%s", code, out, errs)
			}
			if got := checkMap(t, mapPath, src, dst); got != 300 {
				t.Fatalf("the map holds %d lines, want 300", got)
			}
			su, du := undispatched(t, src), undispatched(t, dst)
			if len(su) != 150 || len(du) != len(su) {
				t.Fatalf("undispatched: %d in the source, %d in the target", len(su), len(du))
			}
			for id := range su {
				if !du[id] {
					t.Fatalf("commit %s undispatched in the source, dispatched in the target", id)
				}
			}

			url2 := testserver.Get(t, kind).Isolated(t)
			imap := filepath.Join(t.TempDir(), "import.jsonl")
			p = startPaced(t, "import", "--from", file, "--store", url2, "--map", imap)
			waitLines(t, imap, 100)
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			p.wait()
			out, errs, code = runBin(t, "import", "-q", "--from", file, "--store", url2, "--map", imap, "--resume", "--verify")
			if code != 0 || !strings.Contains(out, "verified 12 streams") {
				t.Fatalf("import --resume --verify: exit %d\n%s%s", code, out, errs)
			}
			if got := checkMap(t, imap, src, openURL(t, url2)); got != 300 {
				t.Fatalf("the import map holds %d lines, want 300", got)
			}
		})
	}
}
