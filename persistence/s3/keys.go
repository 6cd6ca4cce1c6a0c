package s3

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/goeventstore/eventstore/persistence/driver"
)

// The key layout under the engine's prefix P (see the package
// documentation):
//
//	P/log/{N:020d}                   a slot of the global log: a batch of intents, or a void (holes.go)
//	P/s/{b}/{s}/c/{seq:020d}         the claim of commit sequence seq: the commit, decided
//	P/s/{b}/{s}/i/{commitID}         the commit-ID marker of a committed commit
//	P/s/{b}/{s}/n/{inv(rev):020d}    a snapshot (inverted revision: newest first)
//	P/d/{checkpoint:020d}            "dispatched" marker
//	P/meta/lwm                       dispatch low-water mark
//	P/meta/probe/{uuid}              Initialize's conditional-write probe
//
// {b} and {s} are enc of the bucket and stream IDs.
type keys struct{ p string }

// slotBits is how many low bits of a checkpoint number the commit within
// its log slot: checkpoint = N<<slotBits | index. A slot holds at most
// 1<<slotBits commits.
const slotBits = 10

func checkpointOf(n int64, i int) int64 { return n<<slotBits | int64(i) }
func slotOf(cp int64) (n int64, i int)  { return cp >> slotBits, int(cp & (1<<slotBits - 1)) }

func (k keys) logPrefix() string      { return k.p + "log/" }
func (k keys) log(n int64) string     { return fmt.Sprintf("%slog/%020d", k.p, n) }
func (k keys) streams() string        { return k.p + "s/" }
func (k keys) bucket(b string) string { return k.p + "s/" + enc(b) + "/" }
func (k keys) stream(b, s string) string {
	return k.p + "s/" + enc(b) + "/" + enc(s) + "/"
}
func (k keys) claims(b, s string) string { return k.stream(b, s) + "c/" }
func (k keys) claim(b, s string, seq int) string {
	return fmt.Sprintf("%sc/%020d", k.stream(b, s), seq)
}
func (k keys) marker(b, s string, id driver.UUID) string {
	return k.stream(b, s) + "i/" + hex.EncodeToString(id[:])
}
func (k keys) snapshots(b, s string) string { return k.stream(b, s) + "n/" }
func (k keys) snapshot(b, s string, rev int) string {
	return fmt.Sprintf("%sn/%020d", k.stream(b, s), invRev(rev))
}
func (k keys) dispatchedPrefix() string    { return k.p + "d/" }
func (k keys) dispatched(cp int64) string  { return fmt.Sprintf("%sd/%020d", k.p, cp) }
func (k keys) lwm() string                 { return k.p + "meta/lwm" }
func (k keys) probe(id driver.UUID) string { return k.p + "meta/probe/" + id.String() }
func (k keys) tops() []string              { return []string{k.p + "log/", k.p + "s/", k.p + "d/", k.p + "meta/"} }

// invRev orders snapshots newest first.
func invRev(rev int) int64 { return int64(^uint64(0)>>1) - int64(rev) }

// number parses the zero-padded number that ends key.
func number(key string) (int64, bool) {
	i := strings.LastIndexByte(key, '/')
	n, err := strconv.ParseInt(key[i+1:], 10, 64)
	return n, err == nil
}

// maxEncoded is the longest encoded ID kept readable in keys; longer ones
// are hashed (S3 keys are at most 1,024 bytes, IDs up to 1,000 characters).
const maxEncoded = 180

// enc encodes an ID as one key segment: base64url without padding, or "~"
// and the hex SHA-256 of the ID when that would be too long ("~" is not in
// the base64url alphabet, so the two forms never collide). Objects keep the
// original IDs in their bodies.
func enc(id string) string {
	e := base64.RawURLEncoding.EncodeToString([]byte(id))
	if len(e) <= maxEncoded {
		return e
	}
	h := sha256.Sum256([]byte(id))
	return "~" + hex.EncodeToString(h[:])
}
