package mongo

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/goeventstore/eventstore/persistence"
)

// TestEveryQueryNamesItsIndex runs every operation of the engine and checks
// each query it sends (find, update, delete): it must name, with a hint, an
// index that Initialize creates on that collection, whose first key the
// query filters or sorts on. A real MongoDB then cannot choose a collection
// scan. (FerretDB ignores hints, even unknown ones, so the names are
// checked here against the definitions in indexes.go.)
func TestEveryQueryNamesItsIndex(t *testing.T) { eachServer(t, testEveryQueryNamesItsIndex) }

func testEveryQueryNamesItsIndex(t *testing.T) {
	ctx := context.Background()
	driverURI, database, err := parseURI(isolatedURL(t))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var cmds []bson.Raw
	co := mustClientOptions(t, driverURI).SetMonitor(&event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			mu.Lock()
			cmds = append(cmds, slices.Clone(e.Command))
			mu.Unlock()
		},
	})
	client, err := mongo.Connect(co)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	d := newEngine(client.Database(database), "commits", "snapshots")
	settings, err := persistence.NewSettings(persistence.WithPageSize(2))
	if err != nil {
		t.Fatal(err)
	}
	e := persistence.NewEngineWithSettings("mongodb", d, settings)
	if err := e.Initialize(ctx); err != nil {
		t.Fatal(err)
	}

	// Every operation, and the rare paths called directly.
	drain := func(seq func(func(persistence.Commit, error) bool)) {
		t.Helper()
		for _, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	var first persistence.Commit
	for i := 1; i <= 5; i++ {
		c, err := e.Commit(ctx, attempt("b", "s", i))
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			first = c
		}
		if _, err := e.Commit(ctx, attempt("b2", "s", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Commit(ctx, attempt("b", "s", 5)); !errors.Is(err, persistence.ErrConcurrency) {
		t.Fatalf("conflict: %v", err)
	}
	d.heads.forget("") // a stream this engine has not seen: its last commit is looked up (order.go)
	if _, err := e.Commit(ctx, attempt("b", "s", 6)); err != nil {
		t.Fatal(err)
	}
	drain(e.ReadStream(ctx, "b", "s", 0, 0))
	drain(e.ReadStream(ctx, "b", "s", 3, 4))
	drain(e.ReadAll(ctx, 0))
	drain(e.ReadBucket(ctx, "b", 0))
	drain(e.Undispatched(ctx))
	if err := e.MarkDispatched(ctx, first); err != nil {
		t.Fatal(err)
	}
	var batch []persistence.Commit
	for c, err := range e.ReadAll(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, c)
	}
	if err := e.MarkDispatchedBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Head(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.AddSnapshot(ctx, persistence.Snapshot{BucketID: "b", StreamID: "s", StreamRevision: 2, Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.LatestSnapshot(ctx, "b", "s", 0); err != nil {
		t.Fatal(err)
	}
	for _, err := range e.StreamsToSnapshot(ctx, "b", 1) {
		if err != nil {
			t.Fatal(err)
		}
	}
	log := &commitLog{e: d}
	if _, _, err := log.Get(ctx, first.Checkpoint); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteStream(ctx, "b", "s"); err != nil {
		t.Fatal(err)
	}
	if err := e.PurgeBucket(ctx, "b2"); err != nil {
		t.Fatal(err)
	}
	if err := e.Purge(ctx); err != nil {
		t.Fatal(err)
	}

	// The indexes Initialize creates: collection -> name -> first key.
	lead := map[string]map[string]string{
		"commits":   {idxID: fID},
		"snapshots": {idxID: fID},
	}
	for coll, indexes := range map[string][]index{"commits": commitIndexes, "snapshots": snapshotIndexes} {
		for _, ix := range indexes {
			lead[coll][ix.name] = ix.keys[0].Key
		}
	}
	checked := map[string]int{}
	check := func(op, coll string, q bson.Raw, sort bson.Raw, hint bson.RawValue) {
		t.Helper()
		name, ok := hint.StringValueOK()
		if !ok {
			t.Errorf("%s on %s with filter %v names no index (hint %v)", op, coll, q, hint)
			return
		}
		key, ok := lead[coll][name]
		if !ok {
			t.Errorf("%s on %s with filter %v names index %q, which Initialize does not create", op, coll, q, name)
			return
		}
		elems, _ := q.Elements()
		s, _ := sort.Elements()
		fields := map[string]bool{}
		for _, el := range append(elems, s...) {
			fields[el.Key()] = true
		}
		if len(elems) > 0 && !fields[key] {
			t.Errorf("%s on %s with filter %v and sort %v names index %q, which starts with %q: neither filters nor sorts on it", op, coll, q, sort, name, key)
		}
		checked[op+" "+coll+" "+name]++
	}
	mu.Lock()
	defer mu.Unlock()
	for _, c := range cmds {
		el, err := c.IndexErr(0)
		if err != nil {
			t.Fatal(err)
		}
		op := el.Key()
		coll, _ := el.Value().StringValueOK()
		switch op {
		case "find":
			q, _ := c.Lookup("filter").DocumentOK()
			s, _ := c.Lookup("sort").DocumentOK()
			check(op, coll, q, s, c.Lookup("hint"))
		case "update", "delete":
			arr, _ := c.Lookup(op + "s").ArrayOK()
			vals, _ := arr.Values()
			for _, v := range vals {
				doc, _ := v.DocumentOK()
				q, _ := doc.Lookup("q").DocumentOK()
				kind := op
				if multi, _ := doc.Lookup("multi").BooleanOK(); multi {
					kind += "-many"
				}
				check(kind, coll, q, nil, doc.Lookup("hint"))
			}
		case "aggregate", "count", "distinct", "findAndModify":
			t.Errorf("%s on %s: a query kind this test does not check yet", op, coll)
		}
	}
	t.Logf("queries checked: %v", checked)
	for _, want := range []string{
		"find commits " + idxSequence, "find commits " + idxUndispatched, "find commits " + idxBucket, "find commits " + idxID,
		"find snapshots " + idxSnapshot, "update commits " + idxID, "update-many commits " + idxID, "delete commits " + idxID, "delete snapshots " + idxBucket,
	} {
		if checked[want] == 0 {
			t.Errorf("no %s query seen: the workload misses an operation", want)
		}
	}
}
