package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/persistence"
)

// app is one run of the command: its streams, environment and the global
// flags. Tests make their own, with buffers and an engine opener that keeps
// in-memory stores between runs.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	tty            bool   // stderr is a terminal: progress bars, not lines
	dir            string // relative file names are taken from here ("": the working directory)

	// open opens an engine by URL; release is called when a command is
	// done with it. Defaults: persistence.OpenURL and Engine.Close.
	open    func(ctx context.Context, rawURL string, opts ...persistence.Option) (*persistence.Engine, error)
	release func(ctx context.Context, e *persistence.Engine) error
	wrote   func() // called after copy or import wrote a commit, export a line (tests)

	// global flags
	store      string
	bucket     string
	serializer string
	compress   bool
	keyFile    string
	output     string
	timeout    time.Duration
	quiet      bool
	progressEv time.Duration // how often plain progress lines are written
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv,
		open: persistence.OpenURL, progressEv: 2 * time.Second}
	a.release = func(ctx context.Context, e *persistence.Engine) error { return e.Close(ctx) }
	if f, ok := stderr.(*os.File); ok {
		a.tty = term.IsTerminal(int(f.Fd()))
	}
	return a
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError is a mistake on the command line: exit status 2. hint, if
// set, says where to read more (else: the root help).
type usageError struct{ msg, hint string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// run runs the command line args and returns the exit status.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		if ue != nil && ue.hint != "" {
			fmt.Fprintf(a.stderr, "eventstore: %v\nhint: %s\n", err, ue.hint)
			return exitUsage
		}
		fmt.Fprintf(a.stderr, "eventstore: %v\nRun 'eventstore --help' for usage.\n", err)
		return exitUsage
	}
	fmt.Fprintf(a.stderr, "eventstore: %s\n", strings.TrimPrefix(err.Error(), "eventstore: "))
	if h := hint(err); h != "" {
		fmt.Fprintf(a.stderr, "hint: %s\n", h)
	}
	return exitError
}

// isCobraUsage recognizes the errors cobra returns for an unknown command.
func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag")
}

// hint says what to do about err.
func hint(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted; nothing was left half-written (copy and import continue with --resume)"
	case errors.Is(err, errBroker):
		return "the broker did not answer or refused: check that it runs, that --to names it (and its stream or topic), and its log; a slow broker needs a larger --timeout"
	case errors.Is(err, eventstore.ErrDecrypt):
		return "the encryption key is wrong or missing: give the store's key with --key-file FILE or EVENTSTORE_KEY"
	case errors.Is(err, eventstore.ErrCorrupt):
		return "the payload cannot be decoded with these serializer options: check --serializer, --compress and the key (--key-file, EVENTSTORE_KEY)"
	case errors.Is(err, eventstore.ErrNotInitialized):
		return "the store has no tables yet: run 'eventstore init' with the same --store"
	case errors.Is(err, eventstore.ErrStorageUnavailable):
		return "the server did not answer: check that it runs and that --store (EVENTSTORE_URL) names it; a slow server needs a larger --timeout"
	case errors.Is(err, eventstore.ErrPermissionDenied):
		return "the server refused: check the user and password in the URL and the user's grants"
	case errors.Is(err, eventstore.ErrMisconfigured):
		return "check the URL: the database name and its options"
	case errors.Is(err, eventstore.ErrUnsupported):
		return "this engine cannot do that; 'eventstore engines' lists the engines"
	case errors.Is(err, eventstore.ErrInvalid):
		return "check the value named above"
	case errors.Is(err, eventstore.ErrStorage):
		return "the storage failed: the message above is the server's; check its log, then run the command again"
	}
	return ""
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "eventstore",
		Short: "Inspect, follow, repair and move event stores",
		Long: `eventstore is the operator's tool for stores of github.com/goeventstore/eventstore.
It names a store by URL (--store or EVENTSTORE_URL), with any engine linked into
it ('eventstore engines' lists them), and reads and writes through the same
portable layer as programs do.

Payloads are decoded with the serializer options the programs use: --serializer,
--compress and an encryption key read from --key-file FILE or EVENTSTORE_KEY
(hex or base64; never from a flag value, so that it stays out of shell histories).
Only show and tail decode; copy, export and import move payloads as they are.

Exit status: 0 done, 1 failed (the message says what to do), 2 the command line
was wrong.`,
		Example: `  export EVENTSTORE_URL=mysql://root@127.0.0.1:3306/events
  eventstore engines                                 # the engines and their URLs
  eventstore init                                    # create the tables (idempotent)
  eventstore stats                                   # commits, events, streams, buckets, undispatched, head
  eventstore stream show account-1 --from-rev 10     # one stream, decoded
  eventstore stream delete account-1 --yes           # one stream, for good
  eventstore tail --follow --output json             # commits as they land, as JSON lines
  eventstore dispatch status                         # what is still to be dispatched
  eventstore dispatch mark --before 1500 --yes       # consumers have these already
  eventstore copy --from $EVENTSTORE_URL --to mongodb://127.0.0.1:27017/events --verify
  eventstore export --to events.jsonl.gz             # to a file ...
  eventstore import --from events.jsonl.gz --store mongodb://127.0.0.1:27017/events   # ... and back
  eventstore purge --bucket tenant-7 --yes           # a bucket's commits, for good
  eventstore drop --store mysql://root@127.0.0.1:3306/scratch --yes`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{msg: err.Error()} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.store, "store", "", "the store's URL (default $EVENTSTORE_URL), e.g. mysql://root@127.0.0.1:3306/events")
	pf.StringVar(&a.bucket, "bucket", "", "the bucket: one tenant's streams (stream commands: default \"default\"; others: every bucket)")
	pf.StringVar(&a.serializer, "serializer", "json", "how payloads were serialized: json or gob")
	pf.BoolVar(&a.compress, "compress", false, "payloads are gzip-compressed (Wireup's Compress)")
	pf.StringVar(&a.keyFile, "key-file", "", "file holding the AES key payloads are encrypted with (or set EVENTSTORE_KEY)")
	pf.StringVarP(&a.output, "output", "o", "text", "output format: text, or json (one JSON object a line)")
	pf.DurationVar(&a.timeout, "timeout", 0, "bound on each storage operation (default the engine's, 5s)")
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "no progress output")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if a.output != "text" && a.output != "json" {
			return usagef("--output %q: want text or json", a.output)
		}
		if a.serializer != "json" && a.serializer != "gob" {
			return usagef("--serializer %q: want json or gob", a.serializer)
		}
		if a.timeout < 0 {
			return usagef("--timeout %v: must not be negative", a.timeout)
		}
		return nil
	}
	root.AddCommand(a.enginesCmd(), a.initCmd(), a.statsCmd(), a.streamCmd(), a.tailCmd(),
		a.dispatchCmd(), a.copyCmd(), a.exportCmd(), a.importCmd(), a.purgeCmd(), a.dropCmd())
	return root
}

// args checks a command's positional arguments, as a usage error.
func args(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			if n == 0 {
				return usagef("%s takes no arguments (got %q)", cmd.CommandPath(), args)
			}
			return usagef("%s needs %s", cmd.CommandPath(), names)
		}
		return nil
	}
}

// needYes refuses a destructive command without --yes.
func needYes(yes bool, what string) error {
	if !yes {
		return usagef("%s cannot be undone: add --yes to go ahead", what)
	}
	return nil
}

// storeURL returns --store or $EVENTSTORE_URL.
func (a *app) storeURL() (string, error) {
	if a.store != "" {
		return a.store, nil
	}
	if u := a.getenv("EVENTSTORE_URL"); u != "" {
		return u, nil
	}
	return "", usagef("no store: give --store URL or set EVENTSTORE_URL (for example mysql://root@127.0.0.1:3306/events)")
}

// openEngine opens the engine of url with the global options. It does not
// initialize it.
func (a *app) openEngine(ctx context.Context, rawURL string) (*persistence.Engine, error) {
	var opts []persistence.Option
	if a.timeout > 0 {
		opts = append(opts, persistence.WithTimeout(a.timeout), persistence.WithAdminTimeout(max(a.timeout, time.Minute)))
	}
	e, err := a.open(ctx, rawURL, opts...)
	if err != nil {
		if strings.Contains(err.Error(), "unknown engine") || strings.Contains(err.Error(), "is not linked in") ||
			strings.Contains(err.Error(), "has no scheme") {
			return nil, usagef("store %s: %v ('eventstore engines' lists the engines this binary has)", redact(rawURL), err)
		}
		return nil, fmt.Errorf("opening %s: %w", redact(rawURL), err)
	}
	return e, nil
}

// openStore opens the store named by --store (or EVENTSTORE_URL) with the
// serializer options, without initializing it: commands that read say
// "run init" rather than create tables in the wrong database. The store is
// the portable layer's: eventstore.New over the engine.
func (a *app) openStore(ctx context.Context) (*eventstore.Store, func(), error) {
	ser, err := a.newSerializer()
	if err != nil {
		return nil, nil, err
	}
	rawURL, err := a.storeURL()
	if err != nil {
		return nil, nil, err
	}
	e, err := a.openEngine(ctx, rawURL)
	if err != nil {
		return nil, nil, err
	}
	s := eventstore.New(e, eventstore.Options{Serializer: ser})
	return s, func() { a.closeEngine(e) }, nil
}

// closeEngine releases e, waiting for its calls a few seconds at most.
func (a *app) closeEngine(e *persistence.Engine) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.release(ctx, e)
}

// path resolves a file name given on the command line.
func (a *app) path(name string) string {
	if a.dir == "" || name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(a.dir, name)
}

// redact hides the password and the secret query parameters of a URL,
// for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for k := range q {
		l := strings.ToLower(k)
		if strings.Contains(l, "secret") || strings.Contains(l, "key") || strings.Contains(l, "password") || strings.Contains(l, "token") {
			q.Set(k, "xxxxx")
		}
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
