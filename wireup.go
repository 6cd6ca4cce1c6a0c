package eventstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/goeventstore/eventstore/persistence"
	"github.com/goeventstore/eventstore/persistence/memory"
)

// Builder configures a Store step by step, in the manner of NEventStore's
// Wireup. Start with [Wireup], chain the options, finish with Build:
//
//	store, err := eventstore.Wireup().
//		UsingMySQL(dsn).
//		RegisterType("OrderPlaced", OrderPlaced{}).
//		UsingAsyncDispatch().
//		DispatchTo(func(ctx context.Context, c eventstore.Commit) error {
//			return bus.Publish(ctx, c)
//		}).
//		Build(ctx)
//
// Mistakes anywhere in the chain (a bad argument, two engines, dispatch
// options without a dispatcher) are collected and returned together by
// Build; no method panics. A Builder is meant to be used once, by one
// goroutine.
type Builder struct {
	errs []error

	engineBy string // the method that chose the engine
	open     func(ctx context.Context) (*persistence.Engine, error)

	serBy    string // the method that chose the serializer
	ser      Serializer
	newSer   func(*TypeRegistry) Serializer
	types    *TypeRegistry
	wrappers []func(Serializer) (Serializer, error)

	hooks []PipelineHook

	dispatchBy   string // "UsingSyncDispatch" or "UsingAsyncDispatch"
	dispatcher   Dispatcher
	opts         DispatchOptions
	dispatchOpts []string      // dispatch options used, to report them without a dispatcher
	redispatch   time.Duration // RedispatchEvery's: 0 default, < 0 never

	logger *slog.Logger
}

// Wireup starts configuring a Store. Without further choices, Build returns
// a store over the in-memory engine, serializing with JSON, dispatching
// nothing.
func Wireup() *Builder {
	return &Builder{types: NewTypeRegistry()}
}

func (b *Builder) fail(method string, format string, args ...any) *Builder {
	b.errs = append(b.errs, fmt.Errorf("eventstore: Wireup: %s: %s", method, fmt.Sprintf(format, args...)))
	return b
}

func (b *Builder) useEngine(method string, open func(context.Context) (*persistence.Engine, error)) *Builder {
	if b.engineBy != "" {
		return b.fail(method, "the engine was already chosen with %s", b.engineBy)
	}
	b.engineBy, b.open = method, open
	return b
}

func (b *Builder) useNamed(method, name, dataSource string) *Builder {
	if dataSource == "" {
		return b.fail(method, "the data source must not be empty")
	}
	return b.useEngine(method, func(ctx context.Context) (*persistence.Engine, error) {
		return persistence.Open(ctx, name, dataSource)
	})
}

// UsingInMemory keeps everything in memory, in this process: for tests,
// examples and prototypes. It is the default.
func (b *Builder) UsingInMemory() *Builder {
	return b.useEngine("UsingInMemory", func(context.Context) (*persistence.Engine, error) {
		return memory.New(), nil
	})
}

// UsingMongo stores commits in MongoDB at uri
// ("mongodb://host:27017/database"). The program must import
// github.com/goeventstore/eventstore/persistence/mongo (blank import).
func (b *Builder) UsingMongo(uri string) *Builder { return b.useNamed("UsingMongo", "mongodb", uri) }

// UsingMySQL stores commits in MySQL or MariaDB: dsn is a go-sql-driver DSN
// ("user:pass@tcp(host:3306)/events") or a mysql:// URL. The program must
// import github.com/goeventstore/eventstore/persistence/mysql.
func (b *Builder) UsingMySQL(dsn string) *Builder { return b.useNamed("UsingMySQL", "mysql", dsn) }

// UsingS3 stores commits in an S3 bucket named by an s3:// URL
// ("s3://bucket/prefix?region=eu-west-1"; see package persistence/s3 for
// every option). The program must import
// github.com/goeventstore/eventstore/persistence/s3.
func (b *Builder) UsingS3(url string) *Builder { return b.useNamed("UsingS3", "s3", url) }

// UsingAzureTables stores commits in Azure Table Storage named by an
// azuretables:// URL or a storage connection string (see package
// persistence/azuretables). The program must import
// github.com/goeventstore/eventstore/persistence/azuretables.
func (b *Builder) UsingAzureTables(url string) *Builder {
	return b.useNamed("UsingAzureTables", "azuretables", url)
}

// UsingURL chooses the engine by the URL's scheme (mongodb, mysql, s3,
// azuretables, memory), from whichever engine packages are linked in.
func (b *Builder) UsingURL(url string) *Builder {
	if url == "" {
		return b.fail("UsingURL", "the URL must not be empty")
	}
	return b.useEngine("UsingURL", func(ctx context.Context) (*persistence.Engine, error) {
		return persistence.OpenURL(ctx, url)
	})
}

// UsingPersistence uses engine, an engine opened by the caller with an
// engine package's Open or New (or persistence.NewEngine over a driver of
// your own). Build initializes it, and the store closes it on Close.
func (b *Builder) UsingPersistence(engine *persistence.Engine) *Builder {
	if engine == nil {
		return b.fail("UsingPersistence", "the engine must not be nil")
	}
	return b.useEngine("UsingPersistence", func(context.Context) (*persistence.Engine, error) { return engine, nil })
}

func (b *Builder) useSerializer(method string, newSer func(*TypeRegistry) Serializer, s Serializer) *Builder {
	if b.serBy != "" {
		return b.fail(method, "the serializer was already chosen with %s", b.serBy)
	}
	b.serBy, b.newSer, b.ser = method, newSer, s
	return b
}

// UsingJSONSerialization serializes with JSON (NewJSONSerializer), bodies of
// registered types coming back as those types. It is the default.
func (b *Builder) UsingJSONSerialization() *Builder {
	return b.useSerializer("UsingJSONSerialization", NewJSONSerializer, nil)
}

// UsingGobSerialization serializes with encoding/gob (NewGobSerializer).
func (b *Builder) UsingGobSerialization() *Builder {
	return b.useSerializer("UsingGobSerialization", NewGobSerializer, nil)
}

// UsingSerializer serializes with s, a serializer of your own. RegisterType
// does not apply to it.
func (b *Builder) UsingSerializer(s Serializer) *Builder {
	if s == nil {
		return b.fail("UsingSerializer", "the serializer must not be nil")
	}
	return b.useSerializer("UsingSerializer", nil, s)
}

// RegisterType registers the type of sample under name with the JSON or
// gob serializer, so that bodies and snapshot states of that type are read
// back as that type. See TypeRegistry.Register.
func (b *Builder) RegisterType(name string, sample any) *Builder {
	if err := b.types.Register(name, sample); err != nil {
		return b.fail("RegisterType", "%v", err)
	}
	return b
}

// Compress gzip-compresses payloads: it wraps the serializer chosen so far,
// as NEventStore's Compress() does. Order matters: Compress then
// EncryptWith compresses before encrypting (the useful order).
func (b *Builder) Compress() *Builder {
	b.wrappers = append(b.wrappers, func(s Serializer) (Serializer, error) { return Compress(s), nil })
	return b
}

// EncryptWith encrypts and authenticates payloads with AES-GCM under key
// (16, 24 or 32 bytes), wrapping the serializer as wrapped so far. See the
// function EncryptWith.
func (b *Builder) EncryptWith(key []byte) *Builder {
	if _, err := EncryptWith(NewJSONSerializer(nil), key); err != nil {
		return b.fail("EncryptWith", "%v", err)
	}
	key = append([]byte(nil), key...)
	b.wrappers = append(b.wrappers, func(s Serializer) (Serializer, error) { return EncryptWith(s, key) })
	return b
}

// HookIntoPipelineUsing adds pipeline hooks, run in the order added.
func (b *Builder) HookIntoPipelineUsing(hooks ...PipelineHook) *Builder {
	for i, h := range hooks {
		if h == nil {
			return b.fail("HookIntoPipelineUsing", "hook %d is nil", i)
		}
	}
	b.hooks = append(b.hooks, hooks...)
	return b
}

func (b *Builder) useDispatch(method string) *Builder {
	if b.dispatchBy != "" && b.dispatchBy != method {
		return b.fail(method, "dispatch was already chosen with %s", b.dispatchBy)
	}
	b.dispatchBy = method
	return b
}

// UsingSyncDispatch dispatches each commit in CommitChanges, retries
// included, before it returns. It is the default once DispatchTo is given.
// (While Build's catch-up on what an earlier run left undispatched runs,
// new commits are dispatched after it, in the background: see Build.)
func (b *Builder) UsingSyncDispatch() *Builder { return b.useDispatch("UsingSyncDispatch") }

// UsingAsyncDispatch dispatches commits from a bounded queue, in the
// background: CommitChanges returns as soon as the commit is stored and
// queued (waiting only while the queue is full). Close drains the queue.
func (b *Builder) UsingAsyncDispatch() *Builder { return b.useDispatch("UsingAsyncDispatch") }

// DispatchTo dispatches every stored commit to fn (at least once, in order
// per stream). A func literal converts to DispatcherFunc implicitly.
func (b *Builder) DispatchTo(fn DispatcherFunc) *Builder {
	if fn == nil {
		return b.fail("DispatchTo", "the function must not be nil")
	}
	return b.DispatchWith(fn)
}

// DispatchWith dispatches every stored commit to d (at least once, in order
// per stream).
func (b *Builder) DispatchWith(d Dispatcher) *Builder {
	if d == nil {
		return b.fail("DispatchWith", "the dispatcher must not be nil")
	}
	if b.dispatcher != nil {
		return b.fail("DispatchWith", "a dispatcher was already given")
	}
	b.dispatcher = d
	return b
}

func (b *Builder) dispatchOpt(method string) {
	b.dispatchOpts = append(b.dispatchOpts, method)
}

// DispatchWorkers sets how many goroutines dispatch asynchronously
// (default 1); each stream always goes to the same one, keeping its order.
func (b *Builder) DispatchWorkers(n int) *Builder {
	return b.dispatchCount("DispatchWorkers", "workers", n, &b.opts.Workers)
}

// DispatchQueueSize bounds the asynchronous dispatch queue (default 4096).
func (b *Builder) DispatchQueueSize(n int) *Builder {
	return b.dispatchCount("DispatchQueueSize", "queue size", n, &b.opts.QueueSize)
}

// DispatchMaxAttempts sets how many times a commit is tried before it goes
// to the dead-letter handler (default 5).
func (b *Builder) DispatchMaxAttempts(n int) *Builder {
	return b.dispatchCount("DispatchMaxAttempts", "attempts", n, &b.opts.MaxAttempts)
}

// dispatchCount records a dispatch option that must be a positive count.
func (b *Builder) dispatchCount(method, what string, n int, dst *int) *Builder {
	b.dispatchOpt(method)
	if n <= 0 {
		return b.fail(method, "%s %d: must be positive", what, n)
	}
	*dst = n
	return b
}

// DispatchBackoff sets the waits between attempts: random up to initial,
// doubling up to max (defaults 10ms and 5s).
func (b *Builder) DispatchBackoff(initial, max time.Duration) *Builder {
	b.dispatchOpt("DispatchBackoff")
	if initial <= 0 || max < initial {
		return b.fail("DispatchBackoff", "initial %v and max %v: want 0 < initial <= max", initial, max)
	}
	b.opts.InitialBackoff, b.opts.MaxBackoff = initial, max
	return b
}

// DeadLetterTo receives each commit whose last dispatch attempt failed,
// with the error. The commit stays undispatched, and is dispatched again by
// the next periodic sweep (see RedispatchEvery) or at the next start.
func (b *Builder) DeadLetterTo(fn func(ctx context.Context, c Commit, err error)) *Builder {
	b.dispatchOpt("DeadLetterTo")
	if fn == nil {
		return b.fail("DeadLetterTo", "the function must not be nil")
	}
	b.opts.DeadLetter = fn
	return b
}

// RedispatchEvery sets how often the store looks for undispatched commits
// (dead-lettered ones, those it could not schedule) and dispatches them
// again, so that they are dispatched once the dispatcher works, without a
// restart (see Store.Redispatch). Default DefaultRedispatchEvery (a
// minute); 0 turns the sweep off, leaving undispatched commits to the next
// start or to explicit Redispatch calls.
func (b *Builder) RedispatchEvery(d time.Duration) *Builder {
	b.dispatchOpt("RedispatchEvery")
	if d < 0 {
		return b.fail("RedispatchEvery", "interval %v: must not be negative (0 turns the sweep off)", d)
	}
	if d == 0 {
		d = -1
	}
	b.redispatch = d
	return b
}

// LogTo sends the store's and the dispatcher's logs (retries, dead letters,
// commits that could not be scheduled) to logger. Default: discarded.
func (b *Builder) LogTo(logger *slog.Logger) *Builder {
	if logger == nil {
		return b.fail("LogTo", "the logger must not be nil")
	}
	b.logger = logger
	return b
}

// Build checks the configuration, opens and initializes the engine, builds
// the serializer and starts dispatch. With a dispatcher, the store then
// dispatches every commit an earlier run left undispatched, in the
// background so that Build returns at once whatever the backlog (progress
// goes to the logger, see LogTo; the store's new commits are dispatched
// after the older commits, keeping each stream's order; Store.Redispatch
// waits for it), and redispatches periodically (see RedispatchEvery).
// Configuration mistakes are all returned together (errors.Join). On error, nothing is left open: the
// engine is closed, one given with UsingPersistence included.
func (b *Builder) Build(ctx context.Context) (*Store, error) {
	errs := append([]error(nil), b.errs...)
	if b.dispatcher == nil {
		if b.dispatchBy != "" {
			errs = append(errs, fmt.Errorf("eventstore: Wireup: %s needs a dispatcher: add DispatchTo or DispatchWith", b.dispatchBy))
		}
		for _, m := range b.dispatchOpts {
			errs = append(errs, fmt.Errorf("eventstore: Wireup: %s needs a dispatcher: add DispatchTo or DispatchWith", m))
		}
	}
	if b.serBy == "UsingSerializer" && len(b.types.state.Load().byName) > 0 {
		errs = append(errs, errors.New("eventstore: Wireup: RegisterType does not apply to a serializer given with UsingSerializer: register types with it directly"))
	}
	if err := b.opts.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("eventstore: Wireup: %w", err))
	}
	ser := b.ser
	if ser == nil {
		newSer := b.newSer
		if newSer == nil {
			newSer = NewJSONSerializer
		}
		ser = newSer(b.types)
	}
	for _, w := range b.wrappers {
		var err error
		if ser, err = w(ser); err != nil {
			errs = append(errs, fmt.Errorf("eventstore: Wireup: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	open := b.open
	if open == nil {
		open = func(context.Context) (*persistence.Engine, error) { return memory.New(), nil }
	}
	engine, err := open(ctx)
	if err != nil {
		by := b.engineBy
		if by == "" {
			by = "UsingInMemory"
		}
		return nil, fmt.Errorf("eventstore: Wireup: %s: %w", by, err)
	}
	closeEngine := func(err error) (*Store, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = engine.Close(cctx)
		return nil, err
	}
	if err := engine.Initialize(ctx); err != nil {
		return closeEngine(fmt.Errorf("eventstore: Wireup: initializing the engine: %w", err))
	}

	logger := b.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := Options{Serializer: ser, Hooks: b.hooks, Logger: logger}
	backlog := false // one page read: is there anything to catch up on?
	if b.dispatcher != nil {
		for _, err := range engine.Undispatched(ctx) {
			if err != nil {
				return closeEngine(fmt.Errorf("eventstore: Wireup: reading undispatched commits: %w", err))
			}
			backlog = true
			break
		}
		opts.Dispatcher = b.dispatcher
		opts.AsyncDispatch = b.dispatchBy == "UsingAsyncDispatch"
		opts.Dispatch = b.opts
		opts.RedispatchEvery = b.redispatch
	}
	return newStore(engine, opts, backlog), nil
}
