// Package acceptance is the conformance suite every storage engine runs: one
// call checks an engine against the whole [persistence.Engine] contract, the
// way gocloud.dev's drivertest packages check their drivers. It is the Go
// counterpart of NEventStore's persistence acceptance tests, and goes beyond
// them (Unicode and maximal IDs, maximal payloads, racing writers, polling
// readers that must never miss a late commit, cancelled contexts, use after
// Close).
//
// # Running it against an engine
//
// An engine, in this repository or outside it, adds one test:
//
//	func TestAcceptance(t *testing.T) {
//		acceptance.Run(t, acceptance.Harness{
//			New: func(ctx context.Context, t *testing.T) (persistence.Engine, error) {
//				// A new, NOT yet initialized engine over fresh, empty
//				// storage of its own (a new database, bucket, table...),
//				// configured with a read page size of 3. Remove the
//				// storage with t.Cleanup if it outlives the engine.
//				return myengine.Open(ctx, freshURL(t), myengine.PageSize(3))
//			},
//			PageSize: 3,
//		})
//	}
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
// # Sizes and time
//
// Loads are sized from Harness.PageSize (2*PageSize+1 commits where paging
// matters), so a small page size keeps the suite fast on slow servers and
// still crosses page boundaries. The concurrent scenarios are bounded by
// both a count and a few seconds of wall time. Each scenario runs under a
// context that expires after two minutes. No scenario asserts on timing.
//
// # Reading of the contract
//
// Where the contract leaves room, the suite picks what NEventStore users
// expect and says so in the scenario's comment: for example, a second
// AddSnapshot at the same revision replaces the first, checkpoints are
// positive, and a bucket purge never lets a later commit reuse a checkpoint.
package acceptance
