// Package s3 is the storage engine on Amazon S3 and S3-compatible object
// stores (MinIO, SeaweedFS). It keeps every guarantee of the engine
// contract (optimistic concurrency, commit-ID idempotency, a gap-free
// checkpoint order that a polling reader can follow, nothing half-written)
// using only what a general-purpose bucket offers: conditional create
// (If-None-Match: *), conditional overwrite (If-Match) and strongly
// consistent GET and LIST. No other service is involved.
//
// # Opening
//
// Import the package for its side effect and open a URL, or call Open or
// New:
//
//	import _ "github.com/goeventstore/eventstore/persistence/s3"
//
//	store, err := eventstore.Wireup().UsingS3("s3://my-bucket/events?region=eu-west-1").Build(ctx)
//
// The URL is s3://BUCKET[/PREFIX][?PARAMS]. Every object of the engine is
// stored under PREFIX/ (no prefix: at the bucket's root), so one bucket can
// hold several stores. Credentials, region and endpoint come from the
// standard AWS configuration chain (environment variables, shared config
// and credentials files, IAM roles); these parameters override it:
//
//	region             the bucket's region ("us-east-1" if endpoint is set and no region is configured)
//	endpoint           an http:// or https:// URL of an S3-compatible server (MinIO: http://127.0.0.1:9000)
//	use_path_style     true: address the bucket in the path, as MinIO and SeaweedFS want (default false)
//	access_key_id      static credentials; must come with secret_access_key
//	secret_access_key
//	session_token      with the static credentials, optional
//
// and the portable ones page_size, op_timeout and admin_timeout (see
// persistence.Settings). New takes an *s3.Client the caller configured
// (retries, HTTP client, credentials) instead.
//
// Initialize creates the bucket if it is missing, then probes that the
// server honours If-None-Match: * (it creates a probe object twice and
// expects the second create to fail with 412). Some S3 look-alikes ignore
// the header and store both; Initialize then fails with
// ErrNoConditionalWrites (class persistence.ErrMisconfigured), since no
// guarantee could hold.
//
// # Design
//
// Three kinds of object carry a commit, under the prefix P:
//
//	P/log/{N:020d}               a log slot: a batch of intents (whole commits), or a void; created by a conditional create
//	P/s/{b}/{s}/c/{seq:020d}     the claim of one commit sequence: the commit, plus the checkpoint of its intent
//	P/s/{b}/{s}/i/{commitID}     the commit-ID marker of a committed commit
//
// ({b} and {s} are the bucket and stream IDs in base64url, or a SHA-256
// when that would be too long for a key.) A commit's checkpoint is
// N<<10 | i, N its slot, i its place in the slot. An intent is decided by
// the claim of its (bucket, stream, sequence): it is committed if and only
// if that claim holds its checkpoint. The claim is created once, by a
// conditional create, by the writer or by anyone who meets the intent
// undecided (a reader rolls it forward). So a crashed writer leaves an
// intent that the first reader decides.
//
// The log may have holes: engines that contend for it create different
// slots in the same round trip (see "Several processes"), so slot N may be
// missing while N+1 exists. No reader returns an intent of slot M before
// every slot below M (from where it started) exists: it settles each hole
// with the same conditional create a writer uses, storing a void slot (no
// intents). If that create succeeds nothing can land there any more (the
// late writer gets 412 and tries a slot further on); if it fails, a slot
// landed and the reader reads it. Slots never change once they exist, and
// every intent is decided before a reader returns a checkpoint at or above
// it, so nothing becomes visible below a checkpoint a reader has passed.
//
// # A commit, request by request
//
// A commit of sequence s with commit ID X, by an engine that committed s-1
// itself (the common case):
//
//	1a. HEAD c/{s-1}                     at once: the predecessor is still the live claim this engine wrote,
//	1b. GET  i/{X}                       and X is not committed on the stream (else ErrDuplicateCommit);
//	                                     then wait for the marker of s-1 (written in the background)
//	2.  PUT  log/{N}  If-None-Match: *   the intent, in the next slot (above the slot of s-1), with
//	                                     every other commit of this process waiting for one (group commit)
//	3.  PUT  c/{s}    If-None-Match: *   the decision: 200 means committed
//	    -> acknowledged
//	4.  PUT  i/{X}                       the commit-ID marker, in the background
//
// On 412 at step 2 another writer has slot N (or a reader voided it), so N
// exists and the writer tries a slot above it at once, with every commit of
// the process that queued meanwhile; only after three slots lost in a row
// does it LIST the tail first. (If the SDK retried the create, the 412 may
// answer the writer's own first attempt: it HEADs the slot, and its own
// nonce means success.) See "Several processes" below for how engines
// share the log.
//
// On 412 at step 3 it HEADs the claim: its own checkpoint means its own
// write (an SDK retry, or a reader that rolled the intent forward) and the
// commit stands; a claim holding X means ErrDuplicateCommit; any other,
// ErrConcurrency.
//
// So a commit costs 5 requests (HEAD, GET, 3 PUTs; the log PUT is shared by
// a batch), and 3 round trips before it is acknowledged. An engine that did
// not commit s-1 itself (another process did, or it restarted) GETs the
// predecessor's claim, PUTs its marker, then GETs i/{X}, one after the
// other: 7 requests and 5 round trips (and one LIST more for the first
// commit of a process, to find the log's tail). The order matters for
// idempotency: a claim for s is only attempted once the marker of s-1
// exists, so every commit ID committed below s has its marker by then, and
// a retry of it at a later sequence is found by step 1b. (Step 1b may run
// beside 1a because claim s-1 is this engine's own, created after it had
// made sure of the marker of s-2, and X is compared with the commit ID of
// s-1 in memory.)
//
// A writer that dies between any two of its requests leaves either
// nothing, an undecided intent (decided by the next reader: committed,
// unless another commit took the sequence meanwhile), or a committed
// commit without its marker (written by the next commit of the stream).
// Package tests inject every such crash, and every lost answer, at every
// request.
//
// # Several processes
//
// Engines in several processes contend for the log. Were each to create
// only the slot after the last one it knows, one slot per round trip would
// land whoever writes it, and every engine but one would lose it and try
// again. Instead an engine that has lost a slot spreads its creates: it
// tries a slot picked at random among the next few after the last it knows
// exists (a lost slot, or its own last). Each loss doubles the spread (up
// to 8 slots), each slot won narrows it by one, and 10 s without a loss
// bring it back to 1: an engine alone on the log creates slot after slot,
// and the log stays dense. So contending engines mostly create distinct
// slots in the same round trip, each with the commits of its own process
// that queued meanwhile, and the log grows by several slots per round trip.
//
// The slots nobody picked are holes. A reader that meets one waits a grace
// (four times the LIST that revealed it took, between 20 ms and 1 s: the
// create of a writer may be in flight) and then voids it (see "Design").
// The writer that passed over slots voids those still missing itself,
// after the same grace and in the background (one LIST for the ranges
// passed over whose graces end together, and a create per hole), so that
// readers seldom meet a hole; a writer whose slot was voided
// before its create arrived tries further on, as after any lost slot.
// acceptance.RunFairness checks the shares and the total (TestFairness,
// TestFairnessLatency).
//
// # Reads
//
// ReadStream LISTs the stream's claims from the sequence asked for and GETs
// them, up to 32 at once: one LIST per 1,000 commits and one GET per commit.
//
// ReadCommits (ReadAll, ReadBucket) LISTs the log from the checkpoint's
// slot and GETs each slot; each intent of the bucket asked for costs one
// HEAD of its claim (and, if undecided, the create that decides it). A
// hole met on the way costs the grace and one create.
//
// Head LISTs the log from the first slot the engine does not know to
// exist, settles the holes up to the tail as ReadCommits does, and walks
// back from the tail to the last committed intent.
//
// # Dispatch
//
// MarkDispatched creates P/d/{checkpoint}. Undispatched reads the
// low-water mark P/meta/lwm (every commit at or below it is dispatched or
// was deleted or refused), LISTs the dispatched markers above it and reads
// the log from it, settling holes as ReadCommits does; it moves the mark
// (If-Match) over the leading commits it finds dispatched, and removes
// their markers. Its cost grows with the
// commits since the mark, that is with the undispatched ones, never with
// the store.
//
// # Deleting
//
// Claims are never removed, since a removed claim would let an intent it
// refused be rolled forward later. DeleteStream overwrites each live claim
// of the stream with a dead one (If-Match), reads the log's tail, and
// writes it into the dead claims as their horizon; then it removes the
// stream's markers and snapshots. A dead claim decides its own intent as
// deleted and keeps refusing every intent at or below its horizon, which
// covers every intent the live claim can have refused; an intent above the
// horizon came after the deletion and takes the claim over with If-Match
// (a reader that meets a dead claim without horizon, its deleter having
// died, writes the horizon itself). Intents stay in the log, so
// checkpoints are never reused; one small dead claim stays per deleted
// commit. A commit racing the deletion may land in the emptied stream at
// the sequence it was built for, with its predecessors gone: the contract
// lets an engine store an attempt whose predecessor is missing. (A commit
// whose slot lands in a hole below the horizon after the deletion is
// refused: its writer gets ErrConcurrency, as for a commit whose slot
// landed during the deletion; the stream's own writers follow it, as
// after any conflict, and their slots move on past the horizon.)
// PurgeBucket and Purge do the same for every stream of a bucket or of the
// store: O(commits) requests. Drop removes every object under the prefix
// (and checkpoints start again at 1). Engines in other processes must not
// be used meanwhile, not even to read: a reader writes too (it decides
// intents and voids holes), and what it wrote from a log read before the
// Drop would outlive it (a claim with no intent, say). In this process the
// portable layer runs Drop alone.
//
// # Snapshots
//
// Snapshots are P/s/{b}/{s}/n/{MaxInt64-revision}, so that the newest at
// or below a revision is one LIST (StartAfter, one key) and one GET.
// AddSnapshot first GETs the claim at sequence = revision (a sequence is
// at most its revision) or else the stream's last live claim.
// StreamsToSnapshot lists the bucket's streams (a delimited LIST) and, per
// stream, LISTs its claims and GETs the last: O(streams) requests plus one
// per 1,000 commits. S3 has no secondary index; run it from a background
// job.
//
// # Permissions
//
// Writers need s3:GetObject, s3:PutObject and s3:ListBucket on the prefix.
// Readers need the same: a reader that meets an undecided intent decides it
// by creating its claim (roll-forward). DeleteStream, Purge and Drop also
// need s3:DeleteObject; Initialize needs s3:CreateBucket if the bucket does
// not exist yet.
//
// # Errors
//
// A missing bucket gives persistence.ErrNotInitialized (the message names
// NoSuchBucket), refused credentials ErrPermissionDenied, a server without
// conditional writes ErrMisconfigured, an unreachable server or a 5xx
// ErrStorageUnavailable.
package s3
