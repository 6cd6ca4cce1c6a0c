package sqlite_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goeventstore/eventstore/persistence"
)

// childEnv names the file a child process of TestTwoProcesses writes to.
const childEnv = "EVENTSTORE_SQLITE_CHILD"

const processRounds = 60

// race extends one stream as a writer of an application would, reading its
// last sequence and committing the next, until the stream holds
// processRounds commits, and returns how many of them it wrote.
func race(t *testing.T, e *persistence.Engine) int {
	won := 0
	for {
		last := 0
		for c, err := range e.ReadStream(t.Context(), "b", "contended", 0, 0) {
			if err != nil {
				t.Fatalf("ReadStream: %v", err)
			}
			last = c.CommitSequence
		}
		if last >= processRounds {
			return won
		}
		_, err := e.Commit(t.Context(), attempt("b", "contended", last+1))
		switch {
		case err == nil:
			won++
		case !errors.Is(err, persistence.ErrConcurrency):
			t.Fatalf("sequence %d: %v, want ErrConcurrency", last+1, err)
		}
	}
}

// TestTwoProcesses: this process and a child (the test binary again) race
// to extend one stream in one file. Each sequence is won once, and the
// stream and the global order hold the winners only.
func TestTwoProcesses(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		e := open(t, "sqlite://"+path)
		os.Stdout.WriteString("ready\n")
		bufio.NewReader(os.Stdin).ReadString('\n') // the start signal
		os.Stdout.WriteString("won=" + strconv.Itoa(race(t, e)) + "\n")
		return
	}
	path := filepath.Join(t.TempDir(), "shared.db")
	e := open(t, "sqlite://"+path)
	child := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestTwoProcesses$")
	child.Env = append(os.Environ(), childEnv+"="+path)
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); line != "ready\n" {
		t.Fatalf("child: %q, %v; want ready", line, err)
	}
	stdin.Write([]byte("go\n"))
	won := race(t, e)
	rest, _ := io.ReadAll(out)
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, rest)
	}
	_, after, ok := strings.Cut(string(rest), "won=")
	childWon, err := strconv.Atoi(strings.Fields(after + " ")[0])
	if !ok || err != nil {
		t.Fatalf("child's output has no count:\n%s", rest)
	}
	t.Logf("this process won %d sequences, the child %d", won, childWon)
	cs := readAll(t, e, 0)
	if won+childWon != processRounds || len(cs) != processRounds {
		t.Fatalf("%d + %d sequences won, %d commits stored; want %d", won, childWon, len(cs), processRounds)
	}
	for i, c := range cs {
		if c.CommitSequence != i+1 || (i > 0 && c.Checkpoint <= cs[i-1].Checkpoint) {
			t.Fatalf("commit %d: sequence %d checkpoint %d", i, c.CommitSequence, c.Checkpoint)
		}
	}
}
