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
//	P/log/{N:020d}               a log slot: a batch of intents (whole commits), created by a conditional create
//	P/s/{b}/{s}/c/{seq:020d}     the claim of one commit sequence: the commit, plus the checkpoint of its intent
//	P/s/{b}/{s}/i/{commitID}     the commit-ID marker of a committed commit
//
// ({b} and {s} are the bucket and stream IDs in base64url, or a SHA-256
// when that would be too long for a key.) The log is dense: a writer
// creates slot N only after it has seen slot N-1 exist. A commit's
// checkpoint is N<<10 | i, i its place in the slot. An intent is decided
// by the claim of its (bucket, stream, sequence): it is committed if and
// only if that claim holds its checkpoint. The claim is created once, by a
// conditional create, by the writer or by anyone who meets the intent
// undecided (a reader rolls it forward). So a crashed writer leaves an
// intent that the first reader decides, and every intent is decided before
// any reader returns a checkpoint at or above it: nothing becomes visible
// below a checkpoint a reader has passed.
//
// # A commit, request by request
//
// A commit of sequence s with commit ID X, by an engine that committed s-1
// itself (the common case):
//
//	1a. HEAD c/{s-1}                     at once: the predecessor is still the live claim this engine wrote,
//	1b. GET  i/{X}                       and X is not committed on the stream (else ErrDuplicateCommit);
//	                                     then wait for the marker of s-1 (written in the background)
//	2.  PUT  log/{N}  If-None-Match: *   the intent, in the next slot, with every other commit of
//	                                     this process waiting for one (group commit)
//	3.  PUT  c/{s}    If-None-Match: *   the decision: 200 means committed
//	    -> acknowledged
//	4.  PUT  i/{X}                       the commit-ID marker, in the background
//
// On 412 at step 2 another writer has slot N, so N exists and the writer
// tries N+1 at once, with every commit of the process that queued
// meanwhile; only after three slots lost in a row does it LIST the tail
// first. (If the SDK retried the create, the 412 may answer the writer's
// own first attempt: it HEADs the slot, and its own nonce means success.)
// See "Several processes" below for how engines share the log.
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
// Engines in several processes contend for the log's next slot, and the
// one that just won a slot knows the next number before any loser does.
// So that each gets its share: a loser tries the next slot at once (a 412
// proves the slot it lost exists) and takes every commit queued meanwhile
// into its batch; and an engine that has lost a slot in the last 10 s
// waits, after each slot it wins, about as long as a slot create takes
// (randomised, at most 1.5 s) before it sends its next batch, leaving the
// next slot to the others while its own batch grows. An engine alone on
// the log never waits. acceptance.RunFairness checks it (TestFairness).
//
// # Reads
//
// ReadStream LISTs the stream's claims from the sequence asked for and GETs
// them, up to 32 at once: one LIST per 1,000 commits and one GET per commit.
//
// ReadCommits (ReadAll, ReadBucket) LISTs the log from the checkpoint's
// slot and GETs each slot; each intent of the bucket asked for costs one
// HEAD of its claim (and, if undecided, the create that decides it).
//
// Head LISTs the log from the last slot the engine saw and walks back to
// the last committed intent.
//
// # Dispatch
//
// MarkDispatched creates P/d/{checkpoint}. Undispatched reads the
// low-water mark P/meta/lwm (every commit at or below it is dispatched or
// was deleted or refused), LISTs the dispatched markers above it and reads
// the log from it; it moves the mark (If-Match) over the leading commits
// it finds dispatched, and removes their markers. Its cost grows with the
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
// lets an engine store an attempt whose predecessor is missing.
// PurgeBucket and Purge do the same for every stream of a bucket or of the
// store: O(commits) requests. Drop removes every object under the prefix
// (and checkpoints start again at 1); engines in other processes must not
// write meanwhile.
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
