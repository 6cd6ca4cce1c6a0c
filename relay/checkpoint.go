package relay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/goeventstore/eventstore"
)

// Checkpoints keeps a relay's position: the checkpoint of the last commit
// the broker acknowledged. A relay whose publisher is a Resumer needs none
// (the broker knows); with both, it resumes from the greater.
type Checkpoints interface {
	// Load returns the saved checkpoint, 0 if none.
	Load(ctx context.Context) (int64, error)
	// Save records cp. An error matching ErrLeaseLost stops the relay.
	Save(ctx context.Context, cp int64) error
}

// ErrLeaseLost is returned by Checkpoints.Save when another relay saved a
// checkpoint since this one loaded or saved: two relays run. The relay that
// gets it stops; the other goes on.
var ErrLeaseLost = errors.New("relay: another relay saved a checkpoint meanwhile (lease lost)")

// File keeps a checkpoint in a file, replaced atomically (written to a
// temporary file, synced, renamed). It holds no lease: use it with one
// relay per file. The zero value is not usable; set Path.
type File struct {
	Path string
}

// Load reads the file; a missing file is checkpoint 0.
func (f *File) Load(ctx context.Context) (int64, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("relay: load checkpoint: %w", err)
	}
	cp, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || cp < 0 {
		return 0, fmt.Errorf("relay: checkpoint file %s holds %q, want a checkpoint", f.Path, b)
	}
	return cp, nil
}

// Save replaces the file's content with cp.
func (f *File) Save(ctx context.Context, cp int64) error {
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), filepath.Base(f.Path)+".*")
	if err != nil {
		return fmt.Errorf("relay: save checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = fmt.Fprintf(tmp, "%d\n", cp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.Path)
	}
	if err != nil {
		return fmt.Errorf("relay: save checkpoint %d to %s: %w", cp, f.Path, err)
	}
	return nil
}

// CheckpointBucket is the bucket where StoreCheckpoints keeps relay
// checkpoints. Relays never publish its commits.
const CheckpointBucket = "eventstore-relay"

// StoreCheckpoints keeps a relay's checkpoint in the event store itself, as
// commits to the stream name of CheckpointBucket, and uses the store's
// optimistic concurrency as a lease: every Save appends at the exact
// position this relay last loaded or saved, so when two relays of the same
// name run, the first Save of one of them fails with ErrLeaseLost and that
// relay stops. It works on every engine, across processes.
//
// The stream grows by one small commit per Save (Options.SaveEvery), and
// Load reads it whole: purge it (DeleteStream) only while no relay of that
// name runs.
func StoreCheckpoints(store *eventstore.Store, name string) Checkpoints {
	return &storeCheckpoints{store: store, name: name}
}

type storeCheckpoints struct {
	store *eventstore.Store
	name  string
	mu    sync.Mutex
	pos   eventstore.Position
	// lost is the commit ID of a Save whose answer was lost (a timeout):
	// it may be stored, and then the next Save's conflict is our own.
	lost eventstore.UUID
}

func (s *storeCheckpoints) Load(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pos = eventstore.NoStream
	var cp int64
	for c, err := range s.store.Bucket(CheckpointBucket).StreamCommits(ctx, s.name, 0, 0) {
		if err != nil {
			return 0, fmt.Errorf("relay: load checkpoint %q: %w", s.name, err)
		}
		s.pos = c.Position()
		body, _ := c.Events[len(c.Events)-1].Body.(map[string]any)
		v, _ := body["checkpoint"].(string)
		if cp, err = strconv.ParseInt(v, 10, 64); err != nil {
			return 0, fmt.Errorf("relay: checkpoint stream %q commit %d holds %v, want {\"checkpoint\":\"N\"}", s.name, c.CommitSequence, body)
		}
	}
	return cp, nil
}

func (s *storeCheckpoints) Save(ctx context.Context, cp int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := eventstore.NewCommitID()
	b := s.store.Bucket(CheckpointBucket)
	body := eventstore.EventMessage{Body: map[string]any{"checkpoint": strconv.FormatInt(cp, 10)}}
	c, err := b.Append(ctx, s.name, s.pos, id, body)
	if errors.Is(err, eventstore.ErrConcurrency) && s.lost != (eventstore.UUID{}) {
		// Perhaps our own lost Save is in the way: if it is the stream's
		// last commit, go on after it.
		var last *eventstore.Commit
		for lc, lerr := range b.StreamCommits(ctx, s.name, s.pos.Revision+1, 0) {
			if lerr != nil {
				return fmt.Errorf("relay: save checkpoint %d to %q: %w", cp, s.name, lerr)
			}
			last = &lc
		}
		if last != nil && last.CommitID == s.lost {
			s.pos, s.lost = last.Position(), eventstore.UUID{}
			c, err = b.Append(ctx, s.name, s.pos, id, body)
		}
	}
	if errors.Is(err, eventstore.ErrConcurrency) {
		return fmt.Errorf("%w: checkpoint stream %q: %w", ErrLeaseLost, s.name, err)
	}
	if err != nil {
		s.lost = id
		return fmt.Errorf("relay: save checkpoint %d to %q: %w", cp, s.name, err)
	}
	s.pos, s.lost = c.Position(), eventstore.UUID{}
	return nil
}
