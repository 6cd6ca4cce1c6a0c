package acceptance

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"time"

	"github.com/goeventstore/eventstore/persistence"
)

// bucketA and bucketB are the buckets scenarios use besides the default one.
const (
	bucketA = "bucket-a"
	bucketB = "bucket-b"
)

// commitValue is the in-process value f.commit hands to CommitValue:
// engines that Supports(persistence.InProcessValue) return it in
// Commit.Value, others nil.
type commitValue struct {
	Seq    int
	Stream string
	ID     persistence.UUID
}

// newValue returns the in-process value of a.
func newValue(a *persistence.CommitAttempt) *commitValue {
	return &commitValue{Seq: a.CommitSequence, Stream: a.StreamID, ID: a.CommitID}
}

// valueOf returns the Commit.Value reads return for a, committed with
// f.commit: its value if the engine keeps values, nil otherwise.
func (f *fixture) valueOf(a *persistence.CommitAttempt) any {
	if f.can(persistence.InProcessValue) {
		return newValue(a)
	}
	return nil
}

// stored returns the commit reads return for a, committed with f.commit at
// checkpoint cp.
func (f *fixture) stored(a *persistence.CommitAttempt, cp int64) persistence.Commit {
	return persistence.Commit{CommitAttempt: *a, Checkpoint: cp, Value: f.valueOf(a)}
}

// attempt builds an attempt of events events ending at revision rev. Its
// payload is text with header names holding periods and dollar signs, and
// names the commit, so that every attempt's payload differs.
func (f *fixture) attempt(bucketID, streamID string, seq, rev, events int) *persistence.CommitAttempt {
	id := persistence.NewUUID()
	return &persistence.CommitAttempt{
		BucketID:       bucketID,
		StreamID:       streamID,
		StreamRevision: rev,
		CommitID:       id,
		CommitSequence: seq,
		CommitStamp:    f.stamp.Add(time.Duration(seq)*time.Second + time.Duration(seq)*time.Microsecond),
		EventCount:     events,
		Payload: fmt.Appendf(nil, `{"headers":{"key.1":"value","$set":%d,"a.b.c":"%s"},"events":%d,"commit":"%s"}`,
			seq, streamID, events, id),
	}
}

// commit commits a with CommitValue, handing it an in-process value (see
// valueOf), checks the Value it returns and fails the test on error.
func (f *fixture) commit(a *persistence.CommitAttempt) persistence.Commit {
	f.t.Helper()
	what := fmt.Sprintf("Commit(bucket %q, stream %q, sequence %d)", short(a.BucketID), short(a.StreamID), a.CommitSequence)
	f.await(what)
	c, err := f.e.CommitValue(f.ctx, a, newValue(a))
	if err != nil {
		f.t.Fatal(f.explain(what, err))
	}
	if want := f.valueOf(a); !reflect.DeepEqual(c.Value, want) {
		f.t.Errorf("%s returned Value %v, want %v (%s)", what, c.Value, want, valueRule(f))
	}
	return c
}

// valueRule says which Value the engine must return.
func valueRule(f *fixture) string {
	if f.can(persistence.InProcessValue) {
		return "the engine declares persistence.InProcessValue: CommitValue's value comes back from Commit and every read"
	}
	return "the engine does not declare persistence.InProcessValue: Value is always nil"
}

// commitMany commits n commits of events events each to a new stream,
// sequences 1 to n.
func (f *fixture) commitMany(bucketID, streamID string, n, events int) []persistence.Commit {
	f.t.Helper()
	cs := make([]persistence.Commit, n)
	for i := range n {
		cs[i] = f.commit(f.attempt(bucketID, streamID, i+1, (i+1)*events, events))
	}
	return cs
}

// collect ranges over seq and fails the test on an error.
func collect[T any](f *fixture, what string, seq iter.Seq2[T, error]) []T {
	f.t.Helper()
	f.await(what)
	var out []T
	for v, err := range seq {
		if err != nil {
			f.t.Fatal(f.explain(what, err))
		}
		out = append(out, v)
	}
	return out
}

func (f *fixture) readStream(bucketID, streamID string, minRev, maxRev int) []persistence.Commit {
	f.t.Helper()
	return collect(f, fmt.Sprintf("ReadStream(%q, %q, %d, %d)", bucketID, short(streamID), minRev, maxRev),
		f.e.ReadStream(f.ctx, bucketID, streamID, minRev, maxRev))
}

func (f *fixture) readAll(after int64) []persistence.Commit {
	f.t.Helper()
	return collect(f, fmt.Sprintf("ReadAll(%d)", after), f.e.ReadAll(f.ctx, after))
}

func (f *fixture) readBucket(bucketID string, after int64) []persistence.Commit {
	f.t.Helper()
	return collect(f, fmt.Sprintf("ReadBucket(%q, %d)", short(bucketID), after), f.e.ReadBucket(f.ctx, bucketID, after))
}

func (f *fixture) undispatched() []persistence.Commit {
	f.t.Helper()
	return collect(f, "Undispatched", f.e.Undispatched(f.ctx))
}

// checkUndispatched checks Undispatched against want if the engine declares
// persistence.Dispatch, and does nothing otherwise.
func (f *fixture) checkUndispatched(what string, want []persistence.Commit) {
	f.t.Helper()
	if f.can(persistence.Dispatch) {
		f.checkCommits(what, f.undispatched(), want)
	}
}

func (f *fixture) heads(bucketID string, threshold int) []persistence.StreamHead {
	f.t.Helper()
	return collect(f, fmt.Sprintf("StreamsToSnapshot(%q, %d)", short(bucketID), threshold),
		f.e.StreamsToSnapshot(f.ctx, bucketID, threshold))
}

// sameCommit reports how got differs from want, field by field, or "".
func sameCommit(got, want persistence.Commit) string {
	var diffs []string
	add := func(field string, g, w any) { diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", field, g, w)) }
	if got.BucketID != want.BucketID {
		add("BucketID", fmt.Sprintf("%q", short(got.BucketID)), fmt.Sprintf("%q", short(want.BucketID)))
	}
	if got.StreamID != want.StreamID {
		add("StreamID", fmt.Sprintf("%q", short(got.StreamID)), fmt.Sprintf("%q", short(want.StreamID)))
	}
	if got.StreamRevision != want.StreamRevision {
		add("StreamRevision", got.StreamRevision, want.StreamRevision)
	}
	if got.CommitID != want.CommitID {
		add("CommitID", got.CommitID, want.CommitID)
	}
	if got.CommitSequence != want.CommitSequence {
		add("CommitSequence", got.CommitSequence, want.CommitSequence)
	}
	if !got.CommitStamp.Equal(want.CommitStamp) {
		add("CommitStamp", got.CommitStamp.Format(time.RFC3339Nano), want.CommitStamp.Format(time.RFC3339Nano))
	} else if got.CommitStamp.Location() != time.UTC {
		add("CommitStamp location", got.CommitStamp.Location(), "UTC")
	}
	if got.EventCount != want.EventCount {
		add("EventCount", got.EventCount, want.EventCount)
	}
	if !bytes.Equal(got.Payload, want.Payload) {
		add("Payload", describe(got.Payload), describe(want.Payload))
	}
	if !reflect.DeepEqual(got.Value, want.Value) {
		add("Value", got.Value, want.Value)
	}
	if want.Checkpoint != 0 && got.Checkpoint != want.Checkpoint {
		add("Checkpoint", got.Checkpoint, want.Checkpoint)
	}
	if len(diffs) == 0 {
		return ""
	}
	return fmt.Sprintf("commit (stream %q, sequence %d): %v", short(want.StreamID), want.CommitSequence, diffs)
}

// checkCommits fails unless got holds exactly want, in order, field by field.
func (f *fixture) checkCommits(what string, got, want []persistence.Commit) {
	f.t.Helper()
	if len(got) != len(want) {
		f.t.Errorf("%s: got %d commits %s, want %d %s", what, len(got), summary(got), len(want), summary(want))
		return
	}
	for i := range got {
		if d := sameCommit(got[i], want[i]); d != "" {
			f.t.Errorf("%s: commit %d of %d: %s", what, i+1, len(want), d)
		}
	}
}

// summary lists commits as stream:sequence@checkpoint, shortened.
func summary(cs []persistence.Commit) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, c := range cs {
		if i == 12 {
			fmt.Fprintf(&b, " …%d more", len(cs)-i)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d@%d", short(c.StreamID), c.CommitSequence, c.Checkpoint)
	}
	b.WriteByte(']')
	return b.String()
}

// checkpoints returns the checkpoints of cs.
func checkpoints(cs []persistence.Commit) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.Checkpoint
	}
	return out
}

// increasing reports whether cps is strictly increasing and positive.
func increasing(cps []int64) bool {
	for i, cp := range cps {
		if cp <= 0 || (i > 0 && cp <= cps[i-1]) {
			return false
		}
	}
	return true
}

// maxCheckpoint returns the greatest checkpoint of cs, 0 if none.
func maxCheckpoint(cs ...[]persistence.Commit) int64 {
	var m int64
	for _, s := range cs {
		for _, c := range s {
			m = max(m, c.Checkpoint)
		}
	}
	return m
}

// expectError fails unless err matches target (with errors.Is).
func (f *fixture) expectError(what string, err, target error) {
	f.t.Helper()
	if !errors.Is(err, target) {
		f.t.Errorf("%s: got error %v, want one matching %q", what, err, target)
	}
}

// must fails the test if err is not nil.
func (f *fixture) must(what string, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(f.explain(what, err))
	}
}

// expectStreamError fails unless err matches target and names the stream
// with a *persistence.StreamError.
func (f *fixture) expectStreamError(what string, err, target error, bucketID, streamID string) {
	f.t.Helper()
	if !errors.Is(err, target) {
		f.t.Errorf("%s: got error %v, want one matching %q", what, err, target)
		return
	}
	var se *persistence.StreamError
	if !errors.As(err, &se) {
		f.t.Errorf("%s: error %q (%T) is not a *persistence.StreamError naming the stream", what, err, err)
		return
	}
	if se.BucketID != bucketID || se.StreamID != streamID {
		f.t.Errorf("%s: StreamError names bucket %q stream %q, want %q %q", what, short(se.BucketID), short(se.StreamID), short(bucketID), short(streamID))
	}
}

// expectErrorOnly ranges over seq and fails unless it yields exactly one
// element: a zero value with an error matching target.
func expectErrorOnly[T any](f *fixture, what string, seq iter.Seq2[T, error], target error) {
	f.t.Helper()
	n := 0
	for v, err := range seq {
		n++
		if n > 1 {
			f.t.Errorf("%s: yielded more after its error", what)
			return
		}
		if err == nil {
			f.t.Errorf("%s: yielded a value, want only an error matching %q", what, target)
			return
		}
		if !errors.Is(err, target) {
			f.t.Errorf("%s: got error %v, want one matching %q", what, err, target)
		}
		if !reflect.ValueOf(&v).Elem().IsZero() {
			f.t.Errorf("%s: yielded a non-zero value with its error", what)
		}
	}
	if n == 0 {
		f.t.Errorf("%s: yielded nothing, want an error matching %q", what, target)
	}
}

// short shortens long IDs in messages.
func short(s string) string {
	r := []rune(s)
	if len(r) <= 40 {
		return s
	}
	return string(r[:20]) + fmt.Sprintf("…(%d characters)…", len(r)) + string(r[len(r)-8:])
}

// describe summarizes a payload for a message.
func describe(p []byte) string {
	if len(p) <= 64 {
		return fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf("%d bytes %q…", len(p), p[:32])
}

// without returns cs minus the commits of stream streamID.
func without(cs []persistence.Commit, bucketID, streamID string) []persistence.Commit {
	return slices.DeleteFunc(slices.Clone(cs), func(c persistence.Commit) bool {
		return c.BucketID == bucketID && c.StreamID == streamID
	})
}

// byCheckpoint returns cs sorted by checkpoint.
func byCheckpoint(cs ...[]persistence.Commit) []persistence.Commit {
	out := slices.Concat(cs...)
	slices.SortFunc(out, func(a, b persistence.Commit) int {
		switch {
		case a.Checkpoint < b.Checkpoint:
			return -1
		case a.Checkpoint > b.Checkpoint:
			return 1
		}
		return 0
	})
	return out
}
