package acceptance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
)

// The Store group checks the store's rules on top of the engine, through
// the public API of package eventstore: what the store does with the
// engine's answers (conflicts, duplicates, undispatched commits) and with
// the payloads the engine keeps (serializers).
var storeScenarios = []scenario{
	{name: "PreCommitVeto", run: storeVeto},
	{name: "SelectHook", run: storeSelectHook},
	{name: "Serializers", run: storeSerializers},
	{name: "ConflictThroughStream", run: storeConflict},
	{name: "DispatchSync", run: func(f *fixture) { storeDispatch(f, false) }, needs: needs(persistence.Dispatch)},
	{name: "DispatchAsync", run: func(f *fixture) { storeDispatch(f, true) }, needs: needs(persistence.Dispatch)},
	{name: "Redispatch", run: storeRedispatch, needs: needs(persistence.Dispatch)},
}

// StoreEvent is the event body of the Store scenarios (exported: the
// serializers see exported fields only).
type StoreEvent struct {
	Name string
	N    int
}

// StoreState is the snapshot state of the Store scenarios.
type StoreState struct {
	Total int
	Names []string
}

// storeTypes returns a registry that knows the Store scenarios' types.
func storeTypes(f *fixture) *eventstore.TypeRegistry {
	r := eventstore.NewTypeRegistry()
	f.must("TypeRegistry.Register", r.Register("acceptance.StoreEvent", StoreEvent{}))
	f.must("TypeRegistry.Register", r.Register("acceptance.StoreState", StoreState{}))
	return r
}

// newStore returns a store over the fixture's engine. It is not closed:
// closing it would close the engine, which the fixture does.
func (f *fixture) newStore(opts eventstore.Options) *eventstore.Store {
	return eventstore.New(f.e, opts)
}

// event returns an event of stream, numbered n.
func event(stream string, n int) eventstore.EventMessage {
	return eventstore.EventMessage{
		Headers: map[string]any{"event.n": fmt.Sprint(n)},
		Body:    StoreEvent{Name: "event of " + stream, N: n},
	}
}

// storeCommit commits events numbered from..to to stream of s (opened
// anew) and fails the test on error.
func (f *fixture) storeCommit(s *eventstore.Store, stream string, from, to int) *eventstore.Commit {
	f.t.Helper()
	what := fmt.Sprintf("Store.OpenStream(%q)", stream)
	f.await(what)
	st, err := s.OpenStream(f.ctx, stream, 0, 0)
	f.must(what, err)
	for n := from; n <= to; n++ {
		f.must("Stream.Add", st.Add(event(stream, n)))
	}
	what = fmt.Sprintf("CommitChanges on stream %q (events %d to %d)", stream, from, to)
	f.await(what)
	c, err := st.CommitChanges(f.ctx, eventstore.NewCommitID())
	f.must(what, err)
	return c
}

// storeCommits reads every commit through s.Commits.
func (f *fixture) storeCommits(s *eventstore.Store) []eventstore.Commit {
	f.t.Helper()
	return collect(f, "Store.Commits(0)", s.Commits(f.ctx, 0))
}

// bodies returns the bodies of events.
func bodies(events []eventstore.EventMessage) []any {
	out := make([]any, len(events))
	for i, e := range events {
		out[i] = e.Body
	}
	return out
}

// storeVeto: a pre-commit hook that refuses a commit makes CommitChanges
// fail with an error matching ErrVetoed and the hook's error; nothing
// reaches the engine and the stream keeps its uncommitted events. Commits
// the hook accepts are stored.
func storeVeto(f *fixture) {
	refusal := errors.New("refused by the acceptance hook")
	var seen []string
	var mu sync.Mutex
	s := f.newStore(eventstore.Options{Hooks: []eventstore.PipelineHook{eventstore.HookFuncs{
		PreCommitFunc: func(ctx context.Context, a eventstore.CommitAttempt) error {
			mu.Lock()
			seen = append(seen, a.StreamID)
			mu.Unlock()
			if a.StreamID == "refused" {
				return refusal
			}
			return nil
		},
	}}})
	st, err := s.CreateStream("refused")
	f.must("CreateStream", err)
	f.must("Stream.Add", st.Add(event("refused", 1)))
	_, err = st.CommitChanges(f.ctx, eventstore.NewCommitID())
	if !errors.Is(err, eventstore.ErrVetoed) || !errors.Is(err, refusal) {
		f.t.Errorf("CommitChanges refused by the pre-commit hook: %v, want an error matching ErrVetoed and the hook's error", err)
	}
	if n := len(st.UncommittedEvents()); n != 1 {
		f.t.Errorf("after the veto the stream holds %d uncommitted events, want 1", n)
	}
	f.checkCommits("the engine's ReadAll after the veto", f.readAll(0), nil)
	c := f.storeCommit(s, "accepted", 1, 2)
	all := f.readAll(0)
	if len(all) != 1 || all[0].CommitID != c.CommitID || all[0].StreamID != "accepted" {
		f.t.Errorf("the engine's ReadAll after an accepted commit: %s, want only the commit of stream %q", summary(all), "accepted")
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, []string{"refused", "accepted"}) {
		f.t.Errorf("the pre-commit hook saw streams %q, want %q", seen, []string{"refused", "accepted"})
	}
}

// storeSelectHook: a select hook sees every commit read, and may drop it or
// change its events (upconversion): Store.Commits, Bucket.Commits and
// OpenStream give what the hook returns, from what the engine stored.
func storeSelectHook(f *fixture) {
	types := storeTypes(f)
	writer := f.newStore(eventstore.Options{Serializer: eventstore.NewJSONSerializer(types)})
	f.storeCommit(writer, "hidden", 1, 1)
	up1 := f.storeCommit(writer, "upcast", 1, 2)
	up2 := f.storeCommit(writer, "upcast", 3, 3)
	plain := f.storeCommit(writer, "plain", 1, 1)

	upcast := func(ctx context.Context, c eventstore.Commit) (eventstore.Commit, bool, error) {
		switch c.StreamID {
		case "hidden":
			return c, false, nil
		case "upcast":
			events := slices.Clone(c.Events)
			for i := range events {
				if b, ok := events[i].Body.(StoreEvent); ok {
					events[i].Body = StoreEvent{Name: "upcast " + b.Name, N: b.N * 10}
				}
			}
			c.Events = events
		}
		return c, true, nil
	}
	reader := f.newStore(eventstore.Options{
		Serializer: eventstore.NewJSONSerializer(types),
		Hooks:      []eventstore.PipelineHook{eventstore.HookFuncs{SelectCommitFunc: upcast}},
	})
	want := []*eventstore.Commit{up1, up2, plain}
	for name, got := range map[string][]eventstore.Commit{
		"Store.Commits":  f.storeCommits(reader),
		"Bucket.Commits": collect(f, "Bucket.Commits", reader.Bucket(eventstore.DefaultBucket).Commits(f.ctx, 0)),
	} {
		if len(got) != len(want) {
			f.t.Errorf("%s through a select hook yielded %d commits, want %d (the hidden stream's dropped)", name, len(got), len(want))
			continue
		}
		for i := range got {
			if got[i].CommitID != want[i].CommitID {
				f.t.Errorf("%s through a select hook: commit %d is %s:%d, want %s:%d", name, i+1, got[i].StreamID, got[i].CommitSequence, want[i].StreamID, want[i].CommitSequence)
			}
		}
		if b, ok := got[0].Events[0].Body.(StoreEvent); !ok || b.N != 10 {
			f.t.Errorf("%s through a select hook: the first event's body is %#v, want it upcast (N 10)", name, got[0].Events[0].Body)
		}
	}
	f.await("Store.OpenStream through a select hook")
	st, err := reader.OpenStream(f.ctx, "upcast", 0, 0)
	f.must("Store.OpenStream through a select hook", err)
	wantBodies := []any{
		StoreEvent{Name: "upcast event of upcast", N: 10},
		StoreEvent{Name: "upcast event of upcast", N: 20},
		StoreEvent{Name: "upcast event of upcast", N: 30},
	}
	if got := bodies(st.CommittedEvents()); !reflect.DeepEqual(got, wantBodies) {
		f.t.Errorf("OpenStream through a select hook: events %#v, want %#v", got, wantBodies)
	}
}

// storeSerializers: commits and snapshots written through each serializer
// (JSON and gob with registered types, Compress, EncryptWith) round-trip
// through the engine's payloads: a second store with the same serializer
// (so no in-process value can help) reads back the same typed bodies and
// headers. An encrypted payload does not hold its plaintext, and a store
// with another key fails with ErrDecrypt.
func storeSerializers(f *fixture) {
	types := storeTypes(f)
	key := bytes.Repeat([]byte{0x5a}, 32)
	encrypted, err := eventstore.EncryptWith(eventstore.Compress(eventstore.NewGobSerializer(types)), key)
	f.must("EncryptWith", err)
	jsonEncrypted, err := eventstore.EncryptWith(eventstore.NewJSONSerializer(types), key)
	f.must("EncryptWith", err)
	wrongKey, err := eventstore.EncryptWith(eventstore.NewJSONSerializer(types), bytes.Repeat([]byte{0xa5}, 32))
	f.must("EncryptWith", err)
	sers := []struct {
		name      string
		ser       eventstore.Serializer
		encrypted bool
	}{
		{"JSON", eventstore.NewJSONSerializer(types), false},
		{"Gob", eventstore.NewGobSerializer(types), false},
		{"JSON-Compress", eventstore.Compress(eventstore.NewJSONSerializer(types)), false},
		{"Gob-Compress-EncryptWith", encrypted, true},
		{"JSON-EncryptWith", jsonEncrypted, true},
	}
	for _, sc := range sers {
		stream := "serialized-" + sc.name
		writer := f.newStore(eventstore.Options{Serializer: sc.ser})
		st, err := writer.CreateStream(stream)
		f.must("CreateStream", err)
		st.SetHeader("commit.header", "secret-header-"+sc.name)
		f.must("Stream.Add", st.Add(event(stream, 1), event(stream, 2)))
		f.await("CommitChanges through " + sc.name)
		_, err = st.CommitChanges(f.ctx, eventstore.NewCommitID())
		f.must("CommitChanges through "+sc.name, err)
		snaps := f.can(persistence.Snapshots)
		state := StoreState{Total: 3, Names: []string{"secret-state", sc.name}}
		if snaps {
			f.await("Store.AddSnapshot through " + sc.name)
			f.must("Store.AddSnapshot through "+sc.name, writer.AddSnapshot(f.ctx, eventstore.Snapshot{StreamID: stream, StreamRevision: 2, Payload: state}))
		}

		reader := f.newStore(eventstore.Options{Serializer: sc.ser})
		f.await("Store.OpenStream through " + sc.name)
		got, err := reader.OpenStream(f.ctx, stream, 0, 0)
		f.must("Store.OpenStream through "+sc.name, err)
		wantBodies := []any{StoreEvent{Name: "event of " + stream, N: 1}, StoreEvent{Name: "event of " + stream, N: 2}}
		if b := bodies(got.CommittedEvents()); !reflect.DeepEqual(b, wantBodies) {
			f.t.Errorf("%s: a second store read back bodies %#v, want %#v", sc.name, b, wantBodies)
		}
		if h := got.CommittedEvents()[1].Headers["event.n"]; h != "2" {
			f.t.Errorf("%s: a second store read back event header %#v, want %q", sc.name, h, "2")
		}
		if h := got.CommittedHeaders()["commit.header"]; h != "secret-header-"+sc.name {
			f.t.Errorf("%s: a second store read back commit header %#v, want %q", sc.name, h, "secret-header-"+sc.name)
		}
		if snaps {
			f.await("Store.LatestSnapshot through " + sc.name)
			snap, err := reader.LatestSnapshot(f.ctx, stream, 0)
			f.must("Store.LatestSnapshot through "+sc.name, err)
			if !reflect.DeepEqual(snap.Payload, state) {
				f.t.Errorf("%s: a second store read back snapshot state %#v, want %#v", sc.name, snap.Payload, state)
			}
		}
		if !sc.encrypted {
			continue
		}
		for _, c := range f.readStream(eventstore.DefaultBucket, stream, 0, 0) {
			for _, secret := range []string{"event of", "secret-header"} {
				if bytes.Contains(c.Payload, []byte(secret)) {
					f.t.Errorf("%s: the engine's payload holds the plaintext %q", sc.name, secret)
				}
			}
		}
		other := f.newStore(eventstore.Options{Serializer: wrongKey})
		if _, err := other.OpenStream(f.ctx, stream, 0, 0); !errors.Is(err, eventstore.ErrDecrypt) {
			f.t.Errorf("%s: a store with another key opened the stream with %v, want an error matching ErrDecrypt", sc.name, err)
		}
	}
}

// storeConflict: two writers open a stream at the same revision. The first
// commits; the second's CommitChanges fails with ErrConcurrency and
// refreshes the stream (the first writer's events, revision and sequence),
// keeping its own events, which a retry then commits. A commit ID already
// stored on the stream is ErrDuplicateCommit, whether it comes from a fresh
// stream (a redelivered message) or from a stale one (where it also
// conflicts: the duplicate takes precedence), and nothing is written.
func storeConflict(f *fixture) {
	const stream = "contended"
	s := f.newStore(eventstore.Options{Serializer: eventstore.NewJSONSerializer(storeTypes(f))})
	f.storeCommit(s, stream, 1, 1)
	open := func() *eventstore.Stream {
		f.t.Helper()
		f.await("Store.OpenStream")
		st, err := s.OpenStream(f.ctx, stream, 0, 0)
		f.must("Store.OpenStream", err)
		return st
	}
	a, b, stale := open(), open(), open()
	f.must("Stream.Add", a.Add(event(stream, 2)))
	idA := eventstore.NewCommitID()
	f.await("the first writer's CommitChanges")
	_, err := a.CommitChanges(f.ctx, idA)
	f.must("the first writer's CommitChanges", err)

	f.must("Stream.Add", b.Add(event(stream, 3)))
	idB := eventstore.NewCommitID()
	f.await("the second writer's CommitChanges")
	_, err = b.CommitChanges(f.ctx, idB)
	f.expectStreamError("the second writer's CommitChanges", err, eventstore.ErrConcurrency, eventstore.DefaultBucket, stream)
	if errors.Is(err, eventstore.ErrDuplicateCommit) {
		f.t.Errorf("the second writer's conflict also matches ErrDuplicateCommit: %v", err)
	}
	if b.StreamRevision() != 2 || b.CommitSequence() != 2 || len(b.CommittedEvents()) != 2 {
		f.t.Errorf("after ErrConcurrency the stream has revision %d, sequence %d, %d committed events; want it refreshed to 2, 2, 2",
			b.StreamRevision(), b.CommitSequence(), len(b.CommittedEvents()))
	}
	if u := bodies(b.UncommittedEvents()); !reflect.DeepEqual(u, []any{StoreEvent{Name: "event of " + stream, N: 3}}) {
		f.t.Errorf("after ErrConcurrency the stream's uncommitted events are %#v, want its own event kept", u)
	}
	f.await("the second writer's retry")
	_, err = b.CommitChanges(f.ctx, idB)
	f.must("the second writer's retry after refreshing", err)

	fresh := open()
	f.must("Stream.Add", fresh.Add(event(stream, 2)))
	_, err = fresh.CommitChanges(f.ctx, idA)
	f.expectStreamError("a fresh stream retrying the first writer's commit ID", err, eventstore.ErrDuplicateCommit, eventstore.DefaultBucket, stream)
	f.must("Stream.Add", stale.Add(event(stream, 2)))
	_, err = stale.CommitChanges(f.ctx, idA)
	f.expectStreamError("a stale stream retrying the first writer's commit ID at its sequence", err, eventstore.ErrDuplicateCommit, eventstore.DefaultBucket, stream)

	cs := f.readStream(eventstore.DefaultBucket, stream, 0, 0)
	if len(cs) != 3 || cs[1].CommitID != idA || cs[2].CommitID != idB {
		f.t.Errorf("the engine holds %s, want 3 commits: the first, the first writer's, the second writer's retry", summary(cs))
	}
}

// recorder is a dispatcher that records what it receives.
type recorder struct {
	mu  sync.Mutex
	got []eventstore.Commit
}

func (r *recorder) dispatch(ctx context.Context, c eventstore.Commit) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, c)
	return nil
}

func (r *recorder) commits() []eventstore.Commit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// checkDispatched fails unless got holds every commit of want exactly once,
// each stream's in commit sequence order.
func (f *fixture) checkDispatched(what string, got []eventstore.Commit, want []persistence.UUID) {
	f.t.Helper()
	seen := map[persistence.UUID]int{}
	last := map[string]int{}
	for _, c := range got {
		seen[c.CommitID]++
		key := c.BucketID + "\x00" + c.StreamID
		if c.CommitSequence <= last[key] {
			f.t.Errorf("%s: stream %q sequence %d dispatched after sequence %d", what, c.StreamID, c.CommitSequence, last[key])
		}
		last[key] = c.CommitSequence
		if len(c.Events) == 0 {
			f.t.Errorf("%s: commit %s of stream %q dispatched without its events", what, c.CommitID, c.StreamID)
		}
	}
	for _, id := range want {
		if seen[id] != 1 {
			f.t.Errorf("%s: commit %s dispatched %d times, want once", what, id, seen[id])
		}
	}
	if len(got) != len(want) {
		f.t.Errorf("%s: %d commits dispatched, want %d", what, len(got), len(want))
	}
}

// storeDispatch: a store built by Wireup over the engine hands every commit
// it stores, in two buckets, to its dispatcher, once, in order per stream;
// with synchronous dispatch the engine holds nothing undispatched once
// CommitChanges returns; with asynchronous dispatch, once Close returns
// every commit has been dispatched.
func storeDispatch(f *fixture, async bool) {
	rec := &recorder{}
	b := eventstore.Wireup().UsingPersistence(f.e).RegisterType("acceptance.StoreEvent", StoreEvent{}).DispatchTo(rec.dispatch)
	if async {
		b = b.UsingAsyncDispatch()
	} else {
		b = b.UsingSyncDispatch()
	}
	f.await("Wireup().UsingPersistence(engine)...Build")
	s, err := b.Build(f.ctx)
	f.must("Wireup().UsingPersistence(engine)...Build", err)
	var want []persistence.UUID
	for i := range 2*f.page + 1 {
		stream := fmt.Sprintf("dispatched-%d", i%3)
		bucket := s.Bucket(eventstore.DefaultBucket)
		if i%2 == 1 {
			bucket = s.Bucket(bucketA)
		}
		what := fmt.Sprintf("Bucket(%q).OpenStream(%q)", bucket.ID(), stream)
		f.await(what)
		st, err := bucket.OpenStream(f.ctx, stream, 0, 0)
		f.must(what, err)
		f.must("Stream.Add", st.Add(event(stream, i)))
		f.await("CommitChanges")
		c, err := st.CommitChanges(f.ctx, eventstore.NewCommitID())
		f.must("CommitChanges", err)
		want = append(want, c.CommitID)
	}
	if !async {
		f.checkDispatched("synchronous dispatch", rec.commits(), want)
		f.checkUndispatched("the engine's Undispatched after synchronous dispatch", nil)
	}
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	f.await("Store.Close, draining dispatch")
	f.must("Store.Close", s.Close(ctx))
	if async {
		f.checkDispatched("asynchronous dispatch, after Close", rec.commits(), want)
	}
}

// storeRedispatch: commits stored by a store without dispatch (a run that
// crashed before dispatching) are dispatched by the next store built over
// the engine with Wireup().UsingPersistence(e)...Build, in the background
// (Store.Redispatch waits for it), in checkpoint order; a commit already marked dispatched is not;
// afterwards nothing is undispatched, and new commits are dispatched too.
func storeRedispatch(f *fixture) {
	crashed := f.newStore(eventstore.Options{})
	var all []*eventstore.Commit
	for i := range 2*f.page + 1 {
		all = append(all, f.storeCommit(crashed, fmt.Sprintf("left-%d", i%3), i+1, i+1))
	}
	marked := f.readAll(0)[0]
	f.mark(marked)
	var want []persistence.UUID
	for _, c := range all[1:] {
		want = append(want, c.CommitID)
	}
	rec := &recorder{}
	f.await("Wireup().UsingPersistence(engine).DispatchTo(...).Build, dispatching what is undispatched")
	s, err := eventstore.Wireup().UsingPersistence(f.e).DispatchTo(rec.dispatch).Build(f.ctx)
	f.must("Wireup().UsingPersistence(engine).DispatchTo(...).Build", err)
	f.await("Store.Redispatch, waiting for Build's redispatch in the background")
	_, err = s.Redispatch(f.ctx)
	f.must("Store.Redispatch", err)
	got := rec.commits()
	f.checkDispatched("redispatch by Build", got, want)
	for i := 1; i < len(got); i++ {
		if got[i].Checkpoint <= got[i-1].Checkpoint {
			f.t.Errorf("redispatch by Build: checkpoint %d dispatched after %d, want checkpoint order", got[i].Checkpoint, got[i-1].Checkpoint)
		}
	}
	f.checkUndispatched("the engine's Undispatched after Build", nil)
	c := f.storeCommit(s, "after-restart", 1, 1)
	f.checkDispatched("redispatch, then a new commit", rec.commits(), append(want, c.CommitID))
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	f.must("Store.Close", s.Close(ctx))
}
