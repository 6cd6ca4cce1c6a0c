package acceptance

import (
	"fmt"
	"strings"

	"github.com/goeventstore/eventstore/persistence"
)

var idScenarios = []scenario{
	{name: "UnusualIDs", run: unusualIDs},
	{name: "DistinctIDs", run: distinctIDs},
	{name: "NoKeyCollisions", run: noKeyCollisions},
}

// unusualIDs: bucket and stream IDs are opaque strings of up to
// persistence.MaxIDLength characters (not bytes) with no control
// characters. Each pair below commits, reads back with the exact IDs from
// every read, takes a snapshot, is listed by StreamsToSnapshot and deletes (each
// where the engine has the capability).
func unusualIDs(f *fixture) {
	pairs := []struct{ bucket, stream string }{
		{"ünïcödé-bücket", "流-ストリーム-поток-ß"},
		{"emoji-😀", "🚀🌍✨"},
		{"spaces and punctuation", ` a/b\c#d?e%f&g=h+i;j:k|l'm"n<o>p*q.r$s[t]u{v}w~x^y` + "`z "},
		{"bucket.with.periods", "$stream.with.dollar.and.periods"},
		{"%2F", "%2F%25"},
		{strings.Repeat("b", persistence.MaxIDLength), strings.Repeat("s", persistence.MaxIDLength)},
		{strings.Repeat("ß", persistence.MaxIDLength), strings.Repeat("😀", persistence.MaxIDLength)},
		{"RTL-עברית-العربية", "combining-e\u0301-zero\u200bwidth-\ufeffbom"},
	}
	for _, p := range pairs {
		cs := f.commitMany(p.bucket, p.stream, 2, 1)
		what := fmt.Sprintf("bucket %q stream %q", short(p.bucket), short(p.stream))
		f.checkCommits("ReadStream, "+what, f.readStream(p.bucket, p.stream, 0, 0), cs)
		f.checkCommits("ReadBucket, "+what, f.readBucket(p.bucket, 0), cs)
		f.commit(f.attempt(p.bucket, p.stream, 3, 3, 1))
		if f.can(persistence.Snapshots) {
			s := snapshot(p.bucket, p.stream, 2)
			f.addSnapshot(s)
			f.checkLatest(p.bucket, p.stream, 0, &s)
			hs := f.heads(p.bucket, 1)
			if len(hs) != 1 || hs[0].BucketID != p.bucket || hs[0].StreamID != p.stream || hs[0].HeadRevision != 3 || hs[0].SnapshotRevision != 2 {
				f.t.Errorf("StreamsToSnapshot(1), %s = %+v, want the stream with head 3 and snapshot 2", what, hs)
			}
		}
	}
	all := f.readAll(0)
	if len(all) != 3*len(pairs) {
		f.t.Errorf("ReadAll yielded %d commits, want %d", len(all), 3*len(pairs))
	}
	if !f.can(persistence.Delete) {
		return
	}
	for _, p := range pairs {
		f.deleteStream(p.bucket, p.stream)
		f.checkCommits(fmt.Sprintf("ReadStream after DeleteStream, bucket %q stream %q", short(p.bucket), short(p.stream)),
			f.readStream(p.bucket, p.stream, 0, 0), nil)
	}
	f.checkCommits("ReadAll after deleting every stream", f.readAll(0), nil)
}

// distinctIDs: IDs compare byte for byte. IDs that a case-insensitive,
// space-padding, accent- or normalization-folding collation, or a key
// truncated or hashed on a prefix, would merge are distinct streams: each
// commits at sequence 1 and reads back alone.
func distinctIDs(f *fixture) {
	long := strings.Repeat("x", persistence.MaxIDLength-1)
	groups := [][]string{
		{"stream", "Stream", "STREAM"},
		{"a", "a ", " a"},
		{"\u00e9", "e\u0301", "e", "E"}, // é precomposed, decomposed, plain
		{"ß", "ss", "SS"},
		{"ﬁ", "fi"},
		{long + "1", long + "2"},
		{"a\u00a0b", "a b"},
	}
	for _, g := range groups {
		var cs []persistence.Commit
		for _, id := range g {
			cs = append(cs, f.commit(f.attempt(bucketA, id, 1, 1, 1)))
		}
		for i, id := range g {
			f.checkCommits(fmt.Sprintf("ReadStream(%q)", short(id)), f.readStream(bucketA, id, 0, 0), cs[i:i+1])
		}
	}
	// The same for bucket IDs.
	var cs []persistence.Commit
	buckets := []string{"bucket", "Bucket", "bucket ", long + "1", long + "2"}
	for _, b := range buckets {
		cs = append(cs, f.commit(f.attempt(b, "s", 1, 1, 1)))
	}
	for i, b := range buckets {
		f.checkCommits(fmt.Sprintf("ReadBucket(%q)", short(b)), f.readBucket(b, 0), cs[i:i+1])
	}
}

// noKeyCollisions: an engine that joins bucket and stream into one key must
// escape them: ("a/b", "c") and ("a", "b/c") are different streams, whatever
// the separator.
func noKeyCollisions(f *fixture) {
	var inA []persistence.Commit
	for _, sep := range []string{"/", ":", "|", "#", "-", "_", ".", " ", "\\", "%2F", "$", "~"} {
		c1 := f.commit(f.attempt("a"+sep+"b", "c", 1, 1, 1))
		c2 := f.commit(f.attempt("a", "b"+sep+"c", 1, 1, 1))
		inA = append(inA, c2)
		f.checkCommits(fmt.Sprintf("ReadStream(%q, %q)", "a"+sep+"b", "c"), f.readStream("a"+sep+"b", "c", 0, 0), []persistence.Commit{c1})
		f.checkCommits(fmt.Sprintf("ReadStream(%q, %q)", "a", "b"+sep+"c"), f.readStream("a", "b"+sep+"c", 0, 0), []persistence.Commit{c2})
	}
	f.checkCommits("ReadBucket(a)", f.readBucket("a", 0), inA)
}
