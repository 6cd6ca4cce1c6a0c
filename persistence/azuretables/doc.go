// Package azuretables is the event store engine for Azure Table Storage
// (and Azurite, its emulator), built on
// github.com/Azure/azure-sdk-for-go/sdk/data/aztables. It keeps the
// guarantees of the engine contract, optimistic concurrency, commit-ID
// idempotency and a global checkpoint order that never shows a reader a
// commit behind one it has returned (across processes see "Several
// processes"), with nothing but
// what Table Storage offers: entity group transactions (atomic within one
// partition, at most 100 operations and 4 MiB), Insert (409 if the row
// exists), ETag conditions (412) and ordered range queries.
//
// Link it in with a blank import; it registers itself as "azuretables":
//
//	import _ "github.com/goeventstore/eventstore/persistence/azuretables"
//
//	store, err := eventstore.Wireup().
//		UsingAzureTables("azuretables://orders?endpoint=https%3A%2F%2Facct.table.core.windows.net&account=acct&account_key=KEY").
//		Build(ctx)
//
// [Open] takes an azuretables:// URL (the host is the table prefix), a
// storage connection string as the Azure portal shows it, or
// "UseDevelopmentStorage=true" for a local Azurite. [New] takes a
// *aztables.ServiceClient you built, with any credential (Entra ID
// included: this module never imports azidentity). The engine's one table
// is named prefix+"events" ([WithTablePrefix]; default "eventstoreevents").
//
// # Rows
//
// Azure keys may not hold / \ # ? or control characters and are at most
// 1 KiB, while bucket and stream IDs are up to 1000 characters of any
// Unicode; so partition keys hold 128-bit SHA-256 prefixes of the IDs, and
// the IDs themselves are properties, compared on every read.
//
//	partition          row key              holds
//	L                  0000000000000000042  log slot 42 = checkpoint 42: the commit (intent),
//	                                        the writer's nonce K, cached decision D, dispatched W,
//	                                        tombstone X; or a void row (X, V) that closed a hole
//	L                  0000000000000000000  genesis row, written with slot 1
//	L                  !tail                a hint: a slot written, about 64 below the end of
//	                                        the log at most (a log batch sets it every 64 slots)
//	L                  !lwm                 dispatch low-watermark: every slot at or below it
//	                                        is dispatched or dead
//	s{h(b)}-{h(s)}     c0000000007          commit 7 of the stream: checkpoint N, payload
//	s{h(b)}-{h(s)}     i{commit ID}         commit-ID row: {sequence, N}
//	s{h(b)}-{h(s)}     n{N:019d}-{K}        decision of slot N written by batch K: "c" committed,
//	                                        "a" aborted
//	s{h(b)}-{h(s)}     h                    head: revision, sequence, snapshot revision
//	s{h(b)}-{h(s)}     s{MaxInt32-rev}      snapshot (newest first)
//	b{nonce}           00000, 00001, ...    chunks of a payload over 192,000 bytes
//
// Payloads up to 192,000 bytes are stored inline, in binary properties of
// 64,000 bytes (Azure caps a property at 64 KiB), in both the log row and
// the commit row, so that checkpoint reads and stream reads are each one
// range query. Larger payloads (up to the contract's 4 MiB) go to chunk
// rows of 768,000 bytes (an entity holds 1 MiB), three to a batch (4 MiB
// of request, base64 included), written before the commit; both rows point
// to them.
//
// # A commit: log first, then decide
//
//  1. Intent. The appender (one per engine) adds the commit's log row at
//     its next slot N, in one batch on partition L together with every
//     other commit waiting in this process (group commit, up to 98). An
//     engine alone on the log writes each batch right after its last one
//     and asserts that slot N-1 exists (a Merge with If-Match *, which
//     carries N-1's cached decision when the appender has it; the first
//     batch adds the genesis row instead): its log stays dense. Every 64
//     slots, the batch also raises the !tail hint. Azure applies the batch
//     whole or not at all. If another process took a slot (409), the
//     appender reads the keys above it and tries right after the last one;
//     if it lost before, less than 10 s ago, the log is contended and it
//     goes a random number of slots (up to 128) further on instead: into a
//     lane of its own, whose batches assert only that the genesis row
//     exists (a dropped table). See "Several processes".
//  2. Decision. One batch on the stream's partition: Add c{seq} (409 if
//     the sequence is taken), Add i{commit ID} (409 if the commit ID is),
//     Add n{N} and InsertOrMerge h. The commit is stored if and only if
//     this batch was applied. It does not assert that c{seq-1} exists: the
//     portable layer only attempts the sequence after the stream's last,
//     and the contract lets an engine store an attempt whose predecessor
//     is missing (the head then holds the last commit written).
//
// A commit therefore costs two requests (plus one per three chunk rows):
// the stream batch, and its share of a log batch. A lone writer's commit
// is a log batch of 2 operations (its log row, and the Merge of the
// previous slot that carries that commit's cached decision) and a stream
// batch of 4: six operations where Azurite, one Node.js thread, spends
// most of its time on the two requests themselves. Cached decisions (D on
// the log row, which spares readers a lookup) ride along with the next log
// batch, or go alone after 50 ms.
//
// The engine builds the multipart body of its batches itself and sends
// it through an azcore pipeline made from the same client options
// (transport, retries, logging), signed with the account key: the SDK's
// SubmitTransaction decodes and re-encodes every entity and costs several
// times the client CPU. It does so when [Open] knows the credential (an
// account key, or a SAS in the endpoint); an engine made by [New] from
// your client, or on a Cosmos DB endpoint, sends its batches through the
// SDK.
//
// When a batch fails, the service answers 202 and the real status, code
// and failing operation are in the multipart body (the SDK reports it as
// status 202 with no error code), which [ParseBatchResponse] reads. The engine does not trust the index
// (Azurite's differ from Azure's): after a failed or unanswered stream
// batch it reads c{seq}: if it names slot N, the commit is stored (the
// SDK retried a batch whose answer was lost, and the retry met our own
// rows). Else i{commit ID} means ErrDuplicateCommit (also for a retry at a
// later sequence), c{seq} ErrConcurrency, and n{N} = "a" that a reader
// aborted the slot (the
// commit is written again at a new slot). A log batch after a lost answer
// is recognized by its nonce.
//
// # Several processes
//
// Engines in several processes contend for the log. A dense log would
// make the whole store create one slot batch per round trip, whoever
// writes it, with the losers paying extra round trips to find the end
// of the log. So contending engines write in lanes: an engine that loses
// slots twice within 10 s jumps a random number of slots (up to 128) past
// the end of the log, leaving the slots between to the writer it met, and
// writes its batches one after the other from there until it meets
// another's slot, when it jumps again. Several slots are then created per
// round trip, and each engine's intents go out as soon as its previous
// batch is back: N engines together commit about as much as one with the
// same writers (acceptance.RunFairness, TestFairness and
// TestFairnessLatency, checks the shares and logs the ratio).
//
// Lanes leave holes: slots missing below one that exists (the rest of a
// lane whose engine stopped writing, or died). Before a reader passes a
// hole it closes it: it adds a void row there (a tombstone) by the same
// insert a writer's batch uses, and whichever comes first holds the slot
// for good. A writer whose batch meets a void row (409) writes it further
// on; a reader that meets a writer's row reads it. A reader closes a hole
// only once the row above it is older than resolve_after (the writer's
// batch may be on its way), and waits meanwhile, as for an undecided slot.
// An engine that has nothing more to write for 500 ms, or is closed, voids
// the rest of its own lane, so that readers rarely wait.
//
// A commit's slot is above the slot of its stream's previous commit: the
// engine knows that slot from its own last commit or read of the stream,
// or else reads the previous commit row while the intent goes to the log,
// and if the slot came out below, aborts it and writes the intent again
// above. So checkpoint order agrees with each stream's order, as readers
// expect. Across streams written at the same time by several processes,
// a commit acknowledged after another may get a lower checkpoint (the
// two were in different lanes); no reader sees it after the other, since
// readers pass slots only in order.
//
// # Reading the log, and crashes
//
// ReadCommits is a range query on L from the checkpoint asked for. It
// closes the holes it meets (a reader of one bucket, whose query skips the
// other buckets' rows, reads the keys of the log to tell holes from
// them). A slot with a cached decision is what it says. For one without,
// the reader reads n{N} in the stream's partition: if present it decides.
// If absent and the slot is younger than resolve_after
// ([WithResolveAfter], default 3 s), the writer may still be at work: the
// reader waits, reading n{N} again now and then. Once older, the reader
// adds n{N} = "a" itself. That insert and the writer's batch (which adds
// n{N} too) race on one row: whichever comes first decides the slot for
// good. So no commit ever appears at a slot a reader has passed (a hole
// is void, an intent decided), a reader polling from its last checkpoint
// misses nothing and sees nothing twice, and a writer that died between
// its two requests leaves a slot that is aborted, never a half-visible
// commit. Readers need write access for this.
//
// The reader waits rather than end its page at the slot or hole: a short
// page means "nothing more" to the portable layer, so a dead writer's slot
// would otherwise hide the commits after it, acknowledged ones included,
// from a ReadAll or a redispatch for resolve_after. The wait is bounded by
// the call's timeout: a wait starts only with a quarter of it to spare,
// and when that is not left the page ends before the slot with
// driver.ErrPageCut, so that the portable layer reads on from there in a
// new call rather than take the short page for the end (a ReadAll on a
// slowed Azurite otherwise ended before acknowledged commits). A read
// gives up with ErrStorageUnavailable only after several calls in a row
// ran out of time without a commit.
//
// # Dispatch, deletes, purges
//
// Undispatched queries L above !lwm for rows with W = false and raises
// !lwm past what is dispatched or dead: its cost follows the commits not
// yet dispatched. It skips undecided slots without waiting (a live writer
// dispatches its own commit) and keeps !lwm below them, and below the
// first hole it may not close yet (it reads the keys up to the !tail hint
// before its query, so a commit landing in a hole later is above). MarkDispatched merges W = true into the log row.
//
// DeleteStream turns the log rows of the stream's commits into tombstones
// (they keep their slot, so checkpoints are never reused), then deletes
// the stream's rows and chunks, but keeps the decision rows of aborted
// slots, which stop a writer slower than resolve_after from completing a
// slot that readers passed (void rows stay too). Purge and PurgeBucket abort undecided slots
// first, then do the same for every stream (of the bucket), tombstoning
// also the slots of commits decided while they ran. Drop deletes the
// table; writers in other processes notice at their next log batch (the
// assertion on slot N-1 fails) and start again from the new log. A commit
// whose intent went to the dropped table and whose stream batch reached
// the new one can stay in its stream without a log row: stop writers
// before Drop. A commit whose caller gave up (context done) after its
// intent was sent leaves an undecided slot that holds checkpoint readers
// up to resolve_after.
//
// # Costs and limits
//
// Azure bills every request (a batch is one) at its list price for
// transactions; a commit is about two, a page of up to 1,000 commits one,
// an undecided slot one more point read for each time the reader looks
// again (after 5 ms, then twice as long each time, at most 200 ms apart:
// about twenty for a dead writer's slot at the default resolve_after).
// Under contention, a lost slot costs the failed batch and a read of the
// keys above it; a commit whose stream's previous commit this engine has
// not written or read costs a point read (in parallel with its log
// batch); a hole costs its closer a batch of void rows per 100 slots.
// Partition L takes every commit: Azure serves about 2,000 entities per
// second per partition, which group commit turns into batches of many.
// Tested on Azurite 3.37.0, with a transport that fails the tests if a
// batch spans two partitions or exceeds 100 operations or 4 MiB, which
// Azurite accepts and Azure does not.
package azuretables
