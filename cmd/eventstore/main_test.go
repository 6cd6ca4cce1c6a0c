package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/internal/testserver"
	"github.com/goeventstore/eventstore/persistence"
)

func TestMain(m *testing.M) {
	code := testserver.Main(m)
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// memStores keeps the in-memory stores of one script (or test) by name, so
// that "memory://NAME" names the same store in every command of it, as a
// server URL would. "memory://" is a new store each time, as in the binary.
type memStores struct {
	mu sync.Mutex
	m  map[string]*persistence.Engine
}

func (s *memStores) open(ctx context.Context, raw string, opts ...persistence.Option) (*persistence.Engine, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "memory" || u.Host == "" {
		return persistence.OpenURL(ctx, raw, opts...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := u.Host
	if e, ok := s.m[name]; ok {
		return e, nil
	}
	u.Host = ""
	e, err := persistence.OpenURL(ctx, u.String(), opts...)
	if err != nil {
		return nil, err
	}
	if s.m == nil {
		s.m = map[string]*persistence.Engine{}
	}
	s.m[name] = e
	return e, nil
}

func (s *memStores) get(t testing.TB, name string) *persistence.Engine {
	e, err := s.open(context.Background(), "memory://"+name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// release leaves named stores open (the next command uses them).
func (s *memStores) release(ctx context.Context, e *persistence.Engine) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.m {
		if x == e {
			return nil
		}
	}
	return e.Close(ctx)
}

// testApp returns an app writing to buffers, with the named memory stores
// of ms and the environment getenv.
func testApp(ms *memStores, dir string, getenv func(string) string) (*app, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &errb)
	a.open, a.release, a.getenv, a.dir = ms.open, ms.release, getenv, dir
	return a, &out, &errb
}

// TestScripts runs the scripts in testdata/script: each line "eventstore
// ARGS" runs the command in-process; memory://NAME names one store for the
// whole script. A failing command writes "exit status N" to stderr.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Values["stores"] = &memStores{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"eventstore": func(ts *testscript.TestScript, neg bool, args []string) {
				ms := ts.Value("stores").(*memStores)
				a, out, errb := testApp(ms, ts.Getenv("WORK"), ts.Getenv)
				code := a.run(context.Background(), args)
				ts.Stdout().Write(out.Bytes())
				ts.Stderr().Write(errb.Bytes())
				if code != 0 {
					fmt.Fprintf(ts.Stderr(), "exit status %d\n", code)
				}
				if (code != 0) != neg {
					ts.Fatalf("eventstore %s: exit status %d\n%s", strings.Join(args, " "), code, errb.String())
				}
			},
			// seed STORE STREAM N [BUCKET]: N commits of two events to a
			// stream, written by a program's store (JSON, or encrypted with
			// $SEED_KEY, hex). Commits 1..$SEED_DISPATCHED are marked
			// dispatched.
			"seed": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 3 {
					ts.Fatalf("usage: seed STORE STREAM N [BUCKET]")
				}
				n, err := strconv.Atoi(args[2])
				ts.Check(err)
				bucket := eventstore.DefaultBucket
				if len(args) > 3 {
					bucket = args[3]
				}
				var key []byte
				if k := ts.Getenv("SEED_KEY"); k != "" {
					key, err = hex.DecodeString(k)
					ts.Check(err)
				}
				e, err := ts.Value("stores").(*memStores).open(context.Background(), "memory://"+args[0])
				ts.Check(err)
				ts.Check(seed(e, bucket, args[1], n, key))
				if ts.Getenv("SEED_SNAPSHOT") != "" {
					s := eventstore.New(e, eventstore.Options{})
					ts.Check(s.Bucket(bucket).AddSnapshot(context.Background(), eventstore.Snapshot{StreamID: args[1], StreamRevision: 2 * n, Payload: map[string]any{"total": n}}))
				}
				if d := ts.Getenv("SEED_DISPATCHED"); d != "" {
					upto, err := strconv.ParseInt(d, 10, 64)
					ts.Check(err)
					for c, err := range e.Undispatched(context.Background()) {
						ts.Check(err)
						if c.Checkpoint <= upto {
							ts.Check(e.MarkDispatched(context.Background(), c))
						}
					}
				}
			},
		},
	})
}

// seed writes n commits of two events each to a stream through a store,
// as a program would.
func seed(e *persistence.Engine, bucket, stream string, n int, key []byte) error {
	ctx := context.Background()
	var ser eventstore.Serializer = eventstore.NewJSONSerializer(nil)
	if key != nil {
		var err error
		if ser, err = eventstore.EncryptWith(ser, key); err != nil {
			return err
		}
	}
	s := eventstore.New(e, eventstore.Options{Serializer: ser})
	b := s.Bucket(bucket)
	for i := range n {
		st, err := b.OpenStream(ctx, stream, 0, 0)
		if err != nil {
			return err
		}
		st.Add(eventstore.EventMessage{Body: map[string]any{"n": 2 * i}},
			eventstore.EventMessage{Body: map[string]any{"n": 2*i + 1}, Headers: map[string]any{"by": "seed"}})
		if _, err := st.CommitChanges(ctx, eventstore.NewCommitID()); err != nil {
			return err
		}
	}
	return nil
}

// Every command explains itself with an example, and the root help lists
// every command.
func TestEveryCommandHasAnExample(t *testing.T) {
	a, _, _ := testApp(&memStores{}, "", func(string) string { return "" })
	root := a.rootCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Name() == "completion" || c.Name() == "help" {
			return
		}
		own := c == root || strings.Contains(c.Example, "eventstore "+c.Name()) || strings.Contains(c.Example, c.Parent().Name()+" "+c.Name())
		if c.Example == "" || !own {
			t.Errorf("%s: no example of its own:\n%s", c.CommandPath(), c.Example)
		}
		if c.Short == "" {
			t.Errorf("%s: no short description", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// The root help shows an example of every command.
func TestRootHelpShowsEveryCommand(t *testing.T) {
	a, out, _ := testApp(&memStores{}, "", func(string) string { return "" })
	if code := a.run(context.Background(), []string{"--help"}); code != 0 {
		t.Fatal(code)
	}
	for _, c := range a.rootCmd().Commands() {
		if c.Name() == "completion" || c.Name() == "help" {
			continue
		}
		if !strings.Contains(out.String(), "  eventstore "+c.Name()+" ") {
			t.Errorf("eventstore --help shows no example of %s", c.Name())
		}
	}
}
