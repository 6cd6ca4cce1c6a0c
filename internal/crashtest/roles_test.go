package crashtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/goeventstore/eventstore"
)

// The environment of a child process: its role, the engine URL, the
// directory of the records, and its number (writers).
const (
	roleEnv       = "EVENTSTORE_CRASH_ROLE"
	urlEnv        = "EVENTSTORE_CRASH_URL"
	dirEnv        = "EVENTSTORE_CRASH_DIR"
	idEnv         = "EVENTSTORE_CRASH_ID"
	goroutinesEnv = "EVENTSTORE_CRASH_GOROUTINES"
)

// The roles a child process plays.
const (
	roleWriter  = "writer"  // commits to private streams forever, dispatching asynchronously
	rolePoller  = "poller"  // reads Commits from its checkpoint forever
	roleDrainer = "drainer" // builds a store, waits for its redispatch, closes
)

// streamsPerGoroutine is how many private streams each writer goroutine
// commits to, in turn.
const streamsPerGoroutine = 4

// dispatchDelay slows the writers' dispatcher below their commit rate, so
// that their queues hold commits when they are killed.
const dispatchDelay = 20 * time.Millisecond

// writerQueue is the writers' dispatch queue size: small, so that a kill
// leaves a backlog of a bounded size.
const writerQueue = 128

// runRole runs the child process role and returns its exit status.
func runRole(role string) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	url, dir := os.Getenv(urlEnv), os.Getenv(dirEnv)
	var err error
	switch role {
	case roleWriter:
		err = writer(ctx, logger, url, dir, os.Getenv(idEnv), atoi(os.Getenv(goroutinesEnv)))
	case rolePoller:
		err = poller(ctx, logger, url, dir)
	case roleDrainer:
		err = drainer(ctx, logger, url, dir)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "crashtest %s: %v\n", role, err)
		return 1
	}
	return 0
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 1
	}
	return n
}

// record is a file of lines, each appended with one write: a process killed
// at any moment leaves whole lines (the kernel keeps what was written; a
// SIGKILL loses nothing a write returned for).
type record struct {
	mu sync.Mutex
	f  *os.File
}

func openRecord(path string) (*record, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &record{f: f}, nil
}

func (r *record) line(s string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.f.WriteString(s + "\n")
	return err
}

// dispatchRecorder returns a dispatcher that appends each commit's ID to
// dispatched-PID.log in dir, after delay.
func dispatchRecorder(dir string, delay time.Duration) (eventstore.DispatcherFunc, error) {
	r, err := openRecord(filepath.Join(dir, fmt.Sprintf("dispatched-%d.log", os.Getpid())))
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, c eventstore.Commit) error {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return r.line(c.CommitID.String())
	}, nil
}

// writer commits forever, from goroutines goroutines, each to its own
// streams (w<id>g<k>s<j>), one event per commit, and appends to
// acked-<id>.log the ID of every commit the store acknowledged. A commit
// whose outcome is unknown is retried with the same commit ID until the
// store stores it or says it is a duplicate (then it was stored).
func writer(ctx context.Context, logger *slog.Logger, url, dir, id string, goroutines int) error {
	acked, err := openRecord(filepath.Join(dir, "acked-"+id+".log"))
	if err != nil {
		return err
	}
	d, err := dispatchRecorder(dir, dispatchDelay)
	if err != nil {
		return err
	}
	s, err := eventstore.Wireup().UsingURL(url).LogTo(logger).
		UsingAsyncDispatch().DispatchQueueSize(writerQueue).DispatchTo(d).
		Build(ctx)
	if err != nil {
		return err
	}
	defer s.Close(context.Background())
	errs := make(chan error, goroutines)
	for k := range goroutines {
		go func() { errs <- writeStreams(ctx, s, acked, fmt.Sprintf("w%sg%d", id, k)) }()
	}
	for range goroutines {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// writeStreams commits to the streams prefix+s0... in turn until ctx is done.
func writeStreams(ctx context.Context, s *eventstore.Store, acked *record, prefix string) error {
	pos := make([]eventstore.Position, streamsPerGoroutine)
	for j := range pos {
		p, err := position(ctx, s, fmt.Sprintf("%ss%d", prefix, j))
		if err != nil {
			return err
		}
		pos[j] = p
	}
	for n := 0; ctx.Err() == nil; n++ {
		j := n % streamsPerGoroutine
		stream := fmt.Sprintf("%ss%d", prefix, j)
		cid := eventstore.NewCommitID()
		ev := eventstore.EventMessage{Body: fmt.Sprintf("%s #%d", stream, pos[j].Sequence+1)}
		for attempt := 0; ; attempt++ {
			c, err := s.Append(ctx, stream, pos[j], cid, ev)
			if err == nil {
				pos[j] = c.Position()
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			if attempt > 100 {
				return fmt.Errorf("stream %s: commit %s: %d attempts, last: %w", stream, cid, attempt, err)
			}
			// The outcome is unknown, or the stream moved because an
			// earlier attempt of this very commit was stored: learn where
			// the stream ends and retry with the same commit ID (a
			// duplicate then says it was stored).
			if errors.Is(err, eventstore.ErrDuplicateCommit) {
				p, perr := position(ctx, s, stream)
				if perr != nil {
					return perr
				}
				pos[j] = p
				break
			}
			if errors.Is(err, eventstore.ErrConcurrency) {
				p, perr := position(ctx, s, stream)
				if perr != nil {
					return perr
				}
				pos[j] = p
				continue
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := acked.line(cid.String()); err != nil {
			return err
		}
	}
	return nil
}

// position returns where stream ends.
func position(ctx context.Context, s *eventstore.Store, stream string) (eventstore.Position, error) {
	for attempt := 0; ; attempt++ {
		st, err := s.OpenStream(ctx, stream, 0, 0)
		if err == nil {
			return st.Position(), nil
		}
		if ctx.Err() != nil || attempt > 20 {
			return eventstore.Position{}, fmt.Errorf("opening stream %s: %w", stream, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// poller reads every commit in checkpoint order, from the checkpoint in the
// last line of polled.log, and appends "checkpoint commitID" for each; the
// line is its saved checkpoint. It polls until ctx is done.
func poller(ctx context.Context, logger *slog.Logger, url, dir string) error {
	path := filepath.Join(dir, "polled.log")
	after, err := lastCheckpoint(path)
	if err != nil {
		return err
	}
	out, err := openRecord(path)
	if err != nil {
		return err
	}
	s, err := eventstore.Wireup().UsingURL(url).LogTo(logger).Build(ctx)
	if err != nil {
		return err
	}
	defer s.Close(context.Background())
	for ctx.Err() == nil {
		for c, err := range s.Commits(ctx, after) {
			if err != nil {
				logger.Warn("crashtest poller: read failed; polling again", "after", after, "err", err)
				break
			}
			if err := out.line(fmt.Sprintf("%d %s", c.Checkpoint, c.CommitID)); err != nil {
				return err
			}
			after = c.Checkpoint
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// lastCheckpoint returns the checkpoint of the last line of path, 0 if
// there is none.
func lastCheckpoint(path string) (int64, error) {
	lines, err := readLines(path)
	if err != nil || len(lines) == 0 {
		return 0, err
	}
	cp, _, _ := strings.Cut(lines[len(lines)-1], " ")
	return strconv.ParseInt(cp, 10, 64)
}

// readLines returns the whole lines of path (none if it does not exist).
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// drainer is a restart with nothing to write: Build, then wait for the
// redispatch of what the killed writers left (Redispatch waits for Build's),
// then Close, which drains the queue.
func drainer(ctx context.Context, logger *slog.Logger, url, dir string) error {
	d, err := dispatchRecorder(dir, 0)
	if err != nil {
		return err
	}
	s, err := eventstore.Wireup().UsingURL(url).LogTo(logger).UsingAsyncDispatch().DispatchTo(d).Build(ctx)
	if err != nil {
		return err
	}
	if _, err := s.Redispatch(ctx); err != nil {
		s.Close(ctx)
		return err
	}
	return s.Close(ctx)
}
