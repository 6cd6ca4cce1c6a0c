package azuretables

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
)

// Partition keys. Azure forbids / \ # ? and control characters in keys and
// caps them at 1 KiB, while bucket and stream IDs are up to 1000 characters
// of any Unicode; so keys hold hashes and the IDs are properties.
const (
	logPK     = "L"     // the global log: one row per checkpoint
	tailRK    = "!tail" // in logPK: a hint, a slot at most about tailEvery below the end of the log (sorts before digits)
	lwmRK     = "!lwm"  // in logPK: every slot at or below it is dispatched or dead
	genesisRK = "0000000000000000000"
)

// idHash is the first 128 bits of the SHA-256 of id, in hex.
func idHash(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:16])
}

// bucketPrefix is the start of the partition keys of a bucket's streams:
// "s" + hash(bucket) + "-". Every stream partition of the bucket sorts in
// [bucketPrefix, bucketPrefix[:len-1]+".").
func bucketPrefix(bucketID string) string { return "s" + idHash(bucketID) + "-" }

// bucketEnd is the first key after every stream partition of bucket.
func bucketEnd(bucketID string) string { return "s" + idHash(bucketID) + "." }

// streamPK is the partition of one stream: its commits, commit-ID rows,
// head, snapshots and slot decisions.
func streamPK(bucketID, streamID string) string {
	return bucketPrefix(bucketID) + idHash(streamID)
}

// slotRK is the log row key of checkpoint n: 19 digits, so that string order
// is numeric order.
func slotRK(n int64) string { return fmt.Sprintf("%019d", n) }

// Row keys in a stream partition. Their first letters keep the kinds apart
// and in this order: c < h < i < n < s.
func commitRK(seq int) string { return fmt.Sprintf("c%010d", seq) }
func idRK(id string) string   { return "i" + id }
func decisionRK(n int64, nonce string) string {
	// The nonce of the batch that wrote the slot: a writer whose batches
	// straddle a Drop cannot decide the new log's slot of the same number.
	return "n" + slotRK(n) + "-" + nonce
}
func snapshotRK(rev int) string { return fmt.Sprintf("s%010d", math.MaxInt32-rev) }
func chunkPK(ref string) string { return "b" + ref }
func chunkRK(j int) string      { return fmt.Sprintf("%05d", j) }

const headRK = "h"

// newNonce returns 128 random bits in hex: a batch's identity (to recognize
// its own rows after a lost answer) or a chunk partition's name.
func newNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// odataQuote quotes s as an OData string literal.
func odataQuote(s string) string {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}
