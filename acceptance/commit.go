package acceptance

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

var commitScenarios = []scenario{
	{name: "RoundTrip", run: commitRoundTrip},
	{name: "HeaderNameWithPeriod", run: headerNameWithPeriod},
	{name: "SameSequenceConflict", run: sameSequenceConflict},
	{name: "DuplicateCommitID", run: duplicateCommitID},
	{name: "DuplicateTakesPrecedence", run: duplicateTakesPrecedence},
	{name: "SameCommitIDOnAnotherStream", run: sameCommitIDOnAnotherStream},
	{name: "SameStreamInAnotherBucket", run: sameStreamInAnotherBucket},
	{name: "InvalidAttempts", run: invalidAttempts},
	{name: "OutOfOrderSequences", run: outOfOrderSequences},
	{name: "InProcessValue", run: inProcessValue},
}

// commitRoundTrip (NEventStore: when_a_commit_is_successfully_persisted):
// every field of the attempt comes back from Commit and from every read:
// the payload byte for byte, the stamp to the microsecond and in UTC, and
// Value as the InProcessValue capability says. The checkpoint is positive
// (ReadAll(0) reads everything, so no commit may sit at 0 or below).
func commitRoundTrip(f *fixture) {
	a := f.attempt(persistence.DefaultBucket, "round-trip", 1, 3, 3)
	c := f.commit(a)
	want := f.stored(a, c.Checkpoint)
	if c.Checkpoint <= 0 {
		f.t.Errorf("Commit returned checkpoint %d, want a positive one", c.Checkpoint)
	}
	if d := sameCommit(c, want); d != "" {
		f.t.Errorf("Commit returned %s", d)
	}
	f.checkCommits("ReadStream", f.readStream(a.BucketID, a.StreamID, 0, 0), []persistence.Commit{want})
	f.checkCommits("ReadStream(1, 3)", f.readStream(a.BucketID, a.StreamID, 1, 3), []persistence.Commit{want})
	f.checkCommits("ReadAll", f.readAll(0), []persistence.Commit{want})
	f.checkCommits("ReadBucket", f.readBucket(a.BucketID, 0), []persistence.Commit{want})
	f.checkUndispatched("Undispatched", []persistence.Commit{want})
	if f.can(persistence.Snapshots) {
		heads := f.heads(a.BucketID, 1)
		wantHead := persistence.StreamHead{BucketID: a.BucketID, StreamID: a.StreamID, HeadRevision: 3}
		if len(heads) != 1 || heads[0] != wantHead {
			f.t.Errorf("StreamsToSnapshot(1) = %+v, want [%+v]", heads, wantHead)
		}
	}
}

// headerNameWithPeriod (NEventStore: when_a_commit_header_has_a_name_that_
// contains_a_period): headers live inside the payload here, so the check is
// that a payload holding header names with periods, dollar signs and
// brackets (what document stores treat specially) comes back byte for byte.
func headerNameWithPeriod(f *fixture) {
	a := f.attempt(persistence.DefaultBucket, "headers", 1, 1, 1)
	a.Payload = []byte(`{"headers":{"key.1":"value","key.2.nested":{"$set":{"a.b":1}},"[0]":null,"":"empty"},"events":[{"body":{"x.y":"z"}}]}`)
	want := f.stored(a, f.commit(a).Checkpoint)
	f.checkCommits("ReadStream", f.readStream(a.BucketID, a.StreamID, 0, 0), []persistence.Commit{want})
	f.checkCommits("ReadAll", f.readAll(0), []persistence.Commit{want})
}

// sameSequenceConflict (NEventStore: when_committing_a_stream_with_the_same_
// revision, ..._with_the_same_sequence, when_attempting_to_overwrite_a_
// committed_sequence, ..._same_id_as_a_stream_same_bucket): a second commit
// claiming a stored commit sequence, with a new commit ID, fails with
// ErrConcurrency (not ErrDuplicateCommit) naming the stream, whatever
// revision it claims, and leaves nothing behind. The next sequence still
// commits.
func sameSequenceConflict(f *fixture) {
	const stream = "conflict"
	first := f.commit(f.attempt(bucketA, stream, 1, 2, 2))
	for _, rev := range []int{2, 12, 1} {
		a := f.attempt(bucketA, stream, 1, rev, 1)
		_, err := f.e.Commit(f.ctx, a)
		f.expectStreamError("second commit at sequence 1, revision "+strconv.Itoa(rev), err, persistence.ErrConcurrency, bucketA, stream)
		if errors.Is(err, persistence.ErrDuplicateCommit) {
			f.t.Errorf("a conflict with a new commit ID also matches ErrDuplicateCommit: %v", err)
		}
	}
	f.checkCommits("ReadStream after the conflicts", f.readStream(bucketA, stream, 0, 0), []persistence.Commit{first})
	f.checkCommits("ReadAll after the conflicts", f.readAll(0), []persistence.Commit{first})
	f.checkUndispatched("Undispatched after the conflicts", []persistence.Commit{first})
	second := f.commit(f.attempt(bucketA, stream, 2, 4, 2))
	f.checkCommits("ReadStream", f.readStream(bucketA, stream, 0, 0), []persistence.Commit{first, second})
}

// duplicateCommitID (NEventStore: when_attempting_to_persist_a_commit_twice,
// when_attempting_to_persist_a_commitId_twice_on_same_stream): the identical
// attempt again, and the same commit ID with the next sequence, fail with
// ErrDuplicateCommit (not ErrConcurrency) naming the stream; nothing is added.
func duplicateCommitID(f *fixture) {
	const stream = "duplicate"
	a := f.attempt(bucketA, stream, 1, 2, 2)
	first := f.commit(a)
	again := *a
	_, err := f.e.Commit(f.ctx, &again)
	f.expectStreamError("the identical attempt again", err, persistence.ErrDuplicateCommit, bucketA, stream)
	if errors.Is(err, persistence.ErrConcurrency) {
		f.t.Errorf("a duplicate also matches ErrConcurrency: %v", err)
	}
	later := f.attempt(bucketA, stream, 2, 3, 1)
	later.CommitID = a.CommitID
	_, err = f.e.Commit(f.ctx, later)
	f.expectStreamError("the same commit ID at the next sequence", err, persistence.ErrDuplicateCommit, bucketA, stream)
	f.checkCommits("ReadStream after the duplicates", f.readStream(bucketA, stream, 0, 0), []persistence.Commit{first})
	f.checkCommits("ReadAll after the duplicates", f.readAll(0), []persistence.Commit{first})
}

// duplicateTakesPrecedence: when an attempt both repeats a stored commit ID
// and claims a stored sequence, ErrDuplicateCommit wins, whether the
// sequence it claims is the one of that commit or of another.
func duplicateTakesPrecedence(f *fixture) {
	const stream = "precedence"
	c1 := f.commit(f.attempt(bucketA, stream, 1, 1, 1))
	c2 := f.commit(f.attempt(bucketA, stream, 2, 2, 1))
	for _, tc := range []struct {
		id  persistence.UUID
		seq int
	}{{c1.CommitID, 2}, {c2.CommitID, 1}, {c2.CommitID, 2}} {
		a := f.attempt(bucketA, stream, tc.seq, tc.seq, 1)
		a.CommitID = tc.id
		_, err := f.e.Commit(f.ctx, a)
		f.expectStreamError("a stored commit ID at stored sequence "+strconv.Itoa(tc.seq), err, persistence.ErrDuplicateCommit, bucketA, stream)
	}
	f.checkCommits("ReadStream", f.readStream(bucketA, stream, 0, 0), []persistence.Commit{c1, c2})
}

// sameCommitIDOnAnotherStream: commit IDs are unique per stream only. The
// same ID commits on another stream of the bucket and on the same stream ID
// in another bucket.
func sameCommitIDOnAnotherStream(f *fixture) {
	a := f.attempt(bucketA, "first", 1, 1, 1)
	c1 := f.commit(a)
	b := f.attempt(bucketA, "second", 1, 1, 1)
	b.CommitID = a.CommitID
	c2 := f.commit(b)
	c := f.attempt(bucketB, "first", 1, 1, 1)
	c.CommitID = a.CommitID
	c3 := f.commit(c)
	f.checkCommits("ReadAll", f.readAll(0), []persistence.Commit{c1, c2, c3})
}

// sameStreamInAnotherBucket (NEventStore: when_committing_a_stream_with_the_
// same_id_as_a_stream_in_another_bucket): buckets are isolated: the same
// stream ID at the same sequence commits in both, and each bucket reads
// back only its own commit, stamp unchanged.
func sameStreamInAnotherBucket(f *fixture) {
	const stream = "shared-name"
	ca := f.commit(f.attempt(bucketA, stream, 1, 2, 2))
	b := f.attempt(bucketB, stream, 1, 2, 2)
	b.CommitStamp = b.CommitStamp.Add(time.Hour)
	cb := f.commit(b)
	f.checkCommits("ReadStream in bucket a", f.readStream(bucketA, stream, 0, 0), []persistence.Commit{ca})
	f.checkCommits("ReadStream in bucket b", f.readStream(bucketB, stream, 0, 0), []persistence.Commit{cb})
	f.checkCommits("ReadBucket(a)", f.readBucket(bucketA, 0), []persistence.Commit{ca})
	f.checkCommits("ReadBucket(b)", f.readBucket(bucketB, 0), []persistence.Commit{cb})
}

// invalidAttempts: Commit validates with persistence.ValidateAttempt: each
// bad attempt fails with a *persistence.ValidationError matching ErrInvalid,
// and nothing is written.
func invalidAttempts(f *fixture) {
	long := strings.Repeat("x", persistence.MaxIDLength+1)
	cases := []struct {
		name   string
		change func(a *persistence.CommitAttempt)
	}{
		{"empty BucketID", func(a *persistence.CommitAttempt) { a.BucketID = "" }},
		{"empty StreamID", func(a *persistence.CommitAttempt) { a.StreamID = "" }},
		{"StreamID over MaxIDLength", func(a *persistence.CommitAttempt) { a.StreamID = long }},
		{"BucketID over MaxIDLength", func(a *persistence.CommitAttempt) { a.BucketID = long }},
		{"StreamID with a control character", func(a *persistence.CommitAttempt) { a.StreamID = "a\nb" }},
		{"StreamID not UTF-8", func(a *persistence.CommitAttempt) { a.StreamID = "a\xffb" }},
		{"zero CommitID", func(a *persistence.CommitAttempt) { a.CommitID = persistence.UUID{} }},
		{"CommitSequence 0", func(a *persistence.CommitAttempt) { a.CommitSequence = 0 }},
		{"negative CommitSequence", func(a *persistence.CommitAttempt) { a.CommitSequence = -1 }},
		{"EventCount 0", func(a *persistence.CommitAttempt) { a.EventCount = 0 }},
		{"StreamRevision below EventCount", func(a *persistence.CommitAttempt) { a.EventCount = 3; a.StreamRevision = 2 }},
		{"StreamRevision below CommitSequence", func(a *persistence.CommitAttempt) { a.CommitSequence = 3; a.StreamRevision = 2 }},
		{"zero CommitStamp", func(a *persistence.CommitAttempt) { a.CommitStamp = time.Time{} }},
		{"empty Payload", func(a *persistence.CommitAttempt) { a.Payload = nil }},
		{"Payload over MaxPayloadSize", func(a *persistence.CommitAttempt) { a.Payload = make([]byte, persistence.MaxPayloadSize+1) }},
	}
	for _, tc := range cases {
		a := f.attempt(persistence.DefaultBucket, "invalid", 2, 2, 1)
		tc.change(a)
		_, err := f.e.Commit(f.ctx, a)
		var ve *persistence.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, persistence.ErrInvalid) {
			f.t.Errorf("Commit with %s: got %v, want a *persistence.ValidationError matching ErrInvalid", tc.name, err)
		}
	}
	_, err := f.e.Commit(f.ctx, nil)
	f.expectError("Commit(nil)", err, persistence.ErrInvalid)
	f.checkCommits("ReadAll after the invalid attempts", f.readAll(0), nil)
	f.checkUndispatched("Undispatched after the invalid attempts", nil)
}

// outOfOrderSequences (NEventStore v3: when_persisting_commits_out_of_
// order): the store never skips a sequence, so the contract leaves an
// attempt whose predecessor is missing to the engine. It may store it (SQL
// and document engines enforce uniqueness only) or refuse it with
// ErrConcurrency (object-store engines whose sequence N can only be created
// after N-1). Either way nothing is lost: ReadStream yields sequence order,
// ReadAll and Undispatched checkpoint order.
func outOfOrderSequences(f *fixture) {
	const stream = "out-of-order"
	c1 := f.commit(f.attempt(bucketA, stream, 1, 2, 2))
	a3 := f.attempt(bucketA, stream, 3, 6, 2)
	c3, err := f.e.Commit(f.ctx, a3)
	switch {
	case err == nil:
		c2 := f.commit(f.attempt(bucketA, stream, 2, 4, 2))
		f.checkCommits("ReadStream", f.readStream(bucketA, stream, 0, 0), []persistence.Commit{c1, c2, c3})
		f.checkCommits("ReadStream(3, 4)", f.readStream(bucketA, stream, 3, 4), []persistence.Commit{c2})
		want := byCheckpoint([]persistence.Commit{c1, c2, c3})
		f.checkCommits("ReadAll", f.readAll(0), want)
		f.checkUndispatched("Undispatched", want)
	case errors.Is(err, persistence.ErrConcurrency):
		f.checkCommits("ReadAll after the refused attempt", f.readAll(0), []persistence.Commit{c1})
		c2 := f.commit(f.attempt(bucketA, stream, 2, 4, 2))
		c3 = f.commit(a3)
		f.checkCommits("ReadStream", f.readStream(bucketA, stream, 0, 0), []persistence.Commit{c1, c2, c3})
		f.checkCommits("ReadAll", f.readAll(0), []persistence.Commit{c1, c2, c3})
	default:
		f.t.Fatalf("Commit of sequence 3 before 2: %v, want success or ErrConcurrency", err)
	}
}

// inProcessValue: CommitValue hands the engine the caller's in-process form
// of the payload. An engine that declares persistence.InProcessValue returns
// it in Commit.Value from CommitValue and from every read; any other engine
// returns nil, and stores the payload all the same. A plain Commit's value
// is nil in both.
func inProcessValue(f *fixture) {
	keeps := f.can(persistence.InProcessValue)
	a := f.attempt(bucketA, "valued", 1, 1, 1)
	v := &commitValue{Seq: 1, Stream: "valued", ID: a.CommitID}
	c, err := f.e.CommitValue(f.ctx, a, v)
	f.must("CommitValue", err)
	want := persistence.Commit{CommitAttempt: *a, Checkpoint: c.Checkpoint}
	if keeps {
		want.Value = v
		if c.Value != any(v) {
			f.t.Errorf("CommitValue returned Value %v, want the very value it was given (%s)", c.Value, valueRule(f))
		}
	} else if c.Value != nil {
		f.t.Errorf("CommitValue returned Value %v, want nil (%s)", c.Value, valueRule(f))
	}
	plain := f.attempt(bucketA, "valued", 2, 2, 1)
	pc, err := f.e.Commit(f.ctx, plain)
	f.must("Commit", err)
	if pc.Value != nil {
		f.t.Errorf("Commit (no value given) returned Value %v, want nil", pc.Value)
	}
	both := []persistence.Commit{want, {CommitAttempt: *plain, Checkpoint: pc.Checkpoint}}
	f.checkCommits("ReadStream", f.readStream(bucketA, "valued", 0, 0), both)
	f.checkCommits("ReadAll", f.readAll(0), both)
	f.checkCommits("ReadBucket", f.readBucket(bucketA, 0), both)
	f.checkUndispatched("Undispatched", both)
}
