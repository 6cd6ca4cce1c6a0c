// Package acceptance is the conformance suite every storage engine runs: one
// call checks an engine, through the portable [persistence.Engine] that
// wraps its driver, against the whole engine contract (see package
// persistence/driver), the way gocloud.dev's drivertest packages check
// their drivers. It is the Go counterpart of NEventStore's persistence
// acceptance tests, and goes beyond them (Unicode and maximal IDs, maximal
// payloads, racing writers, polling readers that must never miss a late
// commit, loop bodies that call the engine while a read yields, cancelled
// contexts, use after Close, the store's own rules on top of the engine).
// It also holds the shared benchmark harness, [Bench], and the server
// outage check, [RunOutage].
//
// # Running it against an engine
//
// An engine, in this repository or outside it, adds one test:
//
//	func TestAcceptance(t *testing.T) {
//		acceptance.Run(t, acceptance.Harness{
//			New: func(ctx context.Context, t *testing.T, opts ...persistence.Option) (*persistence.Engine, error) {
//				// A new, NOT yet initialized engine over fresh, empty
//				// storage of its own (a new database, bucket, table...),
//				// configured with opts. Remove the storage with
//				// t.Cleanup if it outlives the engine.
//				return myengine.Open(ctx, freshURL(t), opts...)
//			},
//			PageSize: 3,
//			Features: acceptance.AllFeatures,
//		})
//	}
//
// Package acceptance imports the root package eventstore (for the Store
// scenarios), which imports the memory engine: a test of package memory that
// runs the suite is an external test package (package memory_test).
//
// Every scenario is a named subtest (TestAcceptance/Commit/DuplicateCommitID,
// say), so one can be run alone with go test -run. Each scenario gets an
// engine of its own from Harness.New, calls Initialize on it twice (to check
// that Initialize is idempotent) and closes it when the scenario ends. The
// suite never calls Drop at the end: the storage Harness.New created is the
// harness's to remove.
//
// Scenarios run in parallel within their group (go test -parallel bounds
// how many at once), so Harness.New must be safe for concurrent use and give
// each call storage that no other call sees. Run returns only once every
// scenario has finished.
//
// # Options
//
// The suite configures engines through the options it passes to
// Harness.New: persistence.WithPageSize(Harness.PageSize) and an operation
// timeout of 30 seconds (generous: the race detector on a small machine is
// slow). Harness.New must hand them to the engine's Open or New; each
// scenario fails at once if the engine's Settings show otherwise, since an
// engine that ignored the page size would never cross a page.
//
// # Features
//
// Harness.Features declares the optional capabilities of the engine
// (persistence.Snapshots, Dispatch, Delete, Purge, Drop, Head,
// InProcessValue). [AllFeatures] lists those every engine of this
// repository has; the memory engine adds persistence.InProcessValue when it
// keeps values. Each scenario first checks that the engine's Supports
// agrees with the declaration for every capability, and fails naming the
// mismatch. Then:
//
//   - The groups and scenarios of a capability that is not declared are
//     not run (not even as skipped subtests); Run logs once which were
//     left out. Groups: Snapshot (Snapshots), Dispatch (Dispatch), Delete
//     (Delete), Purge (Purge), Drop (Drop); scenarios such as
//     Checkpoint/NotReusedAfterPurge or Store/Redispatch name theirs.
//   - The scenarios of the required core leave out, inside, the checks
//     that need an undeclared capability (Undispatched after a conflict,
//     say).
//   - Head is tested whatever is declared: without the Head capability,
//     the portable layer computes it from ReadAll.
//   - Commit.Value: the suite commits with CommitValue, handing a value; an
//     engine that declares InProcessValue returns it from Commit and from
//     every read, any other engine returns nil (Commit/InProcessValue).
//
// # Groups
//
// Commit, ReadStream, Checkpoint (order, paging, checkpoints never reused
// after DeleteStream, Purge or PurgeBucket), Head, Snapshot, Dispatch,
// Delete, Purge, Drop, Initialize, IDs, Payload, Iterator, Reentrancy,
// Context, Close (a second Close returns nil; every call after Close fails
// with ErrClosed), Concurrency, and Store: the store's rules through the
// public API of package eventstore over the engine (pre-commit veto, select
// hooks, the JSON and gob serializers with Compress and EncryptWith, a
// conflict seen through two streams and a retried commit ID, dispatch, and
// the dispatch by Wireup's Build of what an earlier run left undispatched).
//
// # Sizes and time
//
// Loads are sized from Harness.PageSize (2*PageSize+1 commits where paging
// matters), so a small page size keeps the suite fast on slow servers and
// still crosses page boundaries. The concurrent scenarios are bounded by
// both a count and a few seconds of wall time. Each scenario runs under a
// context that expires after two minutes; a call that this deadline ends
// is reported as such, and a scenario still running 30 seconds later (an
// engine that ignores its context) is reported, on standard error too,
// with what it was waiting for. The Reentrancy scenarios run their loops
// under a 10-second context: a loop body's call that does not return in
// time (an engine that holds a lock or a cursor across pages) fails the
// scenario with a message saying which call, inside which read.
//
// # Server outages
//
// [RunOutage] stops and restarts an engine's server under an open engine.
// It passes persistence.WithTimeout([OutageTimeout]) to Outage.New and
// checks that, with the server down, a commit and every read fail with
// ErrStorageUnavailable within that timeout plus two seconds, measured;
// then that the same engine works again once the server is back.
//
// # Benchmarks
//
// [Bench] runs an engine's benchmarks against a baseline: the engine's own
// driver doing the same unit of work against the same server (one insert of
// a row as large as a commit, one read of the rows of a stream). An engine
// package supplies both:
//
//	func BenchmarkEngine(b *testing.B) {
//		acceptance.Bench(b, acceptance.BenchHarness{
//			New: func(ctx context.Context, b *testing.B, opts ...persistence.Option) (*persistence.Engine, error) {
//				return myengine.Open(ctx, benchURL(b), opts...)
//			},
//			Baseline: func(ctx context.Context, b *testing.B, e *persistence.Engine) (*acceptance.Baseline, error) {
//				var db *sql.DB
//				e.As(&db) // the engine's own client
//				ins, err := db.PrepareContext(ctx, "INSERT INTO plain (data) VALUES (?)")
//				if err != nil {
//					return nil, err
//				}
//				return &acceptance.Baseline{
//					Insert: func(ctx context.Context, stream string, seq int, payload []byte) error {
//						_, err := ins.ExecContext(ctx, payload)
//						return err
//					},
//					Read:  plainRead(db), // SELECT the stream's rows the engine stored
//					Close: func() { ins.Close() },
//				}, nil
//			},
//		})
//	}
//
// Its sub-benchmarks, Commit (one writer), Commit16 (16 writers on streams
// of their own) and ReadStream (a stream of BenchHarness.ReadEvents
// commits), run the engine and the baseline in alternating phases within
// one benchmark and report both rates and "ratio", the engine's rate over
// the baseline's: the figure to quote, as the median of several runs
// (go test -run '^$' -bench BenchmarkEngine -count 5). Rates per CPU-second
// of the test process are reported beside them. BenchmarkMemory in this
// package's tests is a complete example.
//
// # Reading of the contract
//
// Where the contract leaves room, the suite picks what NEventStore users
// expect and says so in the scenario's comment: for example, a second
// AddSnapshot at the same revision replaces the first, checkpoints are
// positive, and Head is the greatest checkpoint of a visible commit (0
// after Purge).
//
// # Testing the suite
//
// The suite's own tests (broken_test.go) run it against a simple adapter
// driver over the memory engine, which must pass, and against the same
// adapter with one defect at a time (late visibility, case-folding IDs,
// checkpoints reused after Purge, a lock held across pages, a lost
// undispatched list...), each of which the scenario meant to catch it must
// fail.
package acceptance
