package mysql

import "crypto/sha256"

// keyLen is the length of the hashed keys: the first 160 bits of SHA-256,
// as long as NEventStore's SHA-1 stream hash and far from any collision.
const keyLen = 20

// idKey returns the index key of a bucket or stream ID: IDs of up to 1000
// characters of any Unicode are too long for an InnoDB index, so the keys
// hold a hash and the original ID is stored beside it.
func idKey(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:keyLen]
}
