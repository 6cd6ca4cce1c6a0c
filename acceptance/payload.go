package acceptance

import (
	"math/rand/v2"

	"github.com/goeventstore/eventstore/persistence"
)

var payloadScenarios = []scenario{
	{name: "Binary", run: binaryPayload},
	{name: "Large", run: largePayloads},
	{name: "LargeSnapshot", run: largeSnapshot, needs: needs(persistence.Snapshots)},
}

// randomBytes returns n bytes that do not compress.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// binaryPayload: payloads are opaque bytes: every byte value, NUL, invalid
// UTF-8 and a lone byte come back exactly.
func binaryPayload(f *fixture) {
	every := make([]byte, 0, 3*256)
	for range 3 {
		for b := range 256 {
			every = append(every, byte(b))
		}
	}
	payloads := [][]byte{every, {0}, {0xff, 0xfe, 0x00, 0xc3, 0x28}, []byte("\x00{\"key.1\":\"\xe2\x82\"}\x00"), {'x'}}
	var want []persistence.Commit
	for i, p := range payloads {
		a := f.attempt(bucketA, "binary", i+1, i+1, 1)
		a.Payload = p
		c := f.commit(a)
		want = append(want, c)
	}
	f.checkCommits("ReadStream", f.readStream(bucketA, "binary", 0, 0), want)
	f.checkCommits("ReadAll", f.readAll(0), want)
	if f.can(persistence.Snapshots) {
		s := persistence.Snapshot{BucketID: bucketA, StreamID: "binary", StreamRevision: 1, Payload: every}
		f.addSnapshot(s)
		f.checkLatest(bucketA, "binary", 0, &s)
	}
}

// largePayloads (NEventStore: when_a_payload_is_large, and up to the limit):
// 1 MiB and exactly persistence.MaxPayloadSize of incompressible bytes commit
// and come back byte for byte from stream, checkpoint and undispatched reads.
func largePayloads(f *fixture) {
	var want []persistence.Commit
	for i, n := range []int{1 << 20, persistence.MaxPayloadSize} {
		a := f.attempt(bucketA, "large", i+1, i+1, 1)
		a.Payload = randomBytes(n, uint64(n))
		want = append(want, f.commit(a))
	}
	f.checkCommits("ReadStream", f.readStream(bucketA, "large", 0, 0), want)
	f.checkCommits("ReadAll", f.readAll(0), want)
	f.checkCommits("ReadBucket", f.readBucket(bucketA, 0), want)
	f.checkUndispatched("Undispatched", want)
}

// largeSnapshot: a snapshot of exactly persistence.MaxPayloadSize comes back
// byte for byte.
func largeSnapshot(f *fixture) {
	f.commitMany(bucketA, "large", 1, 1)
	s := persistence.Snapshot{BucketID: bucketA, StreamID: "large", StreamRevision: 1, Payload: randomBytes(persistence.MaxPayloadSize, 7)}
	f.addSnapshot(s)
	f.checkLatest(bucketA, "large", 0, &s)
}
