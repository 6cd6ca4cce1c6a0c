package driver

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// UUID is a 128-bit identifier, used for commit IDs. The zero UUID is not a
// valid commit ID.
type UUID [16]byte

// NewUUID returns a new version 7 UUID: time-ordered, which keeps database
// indexes compact, and random in its remaining 74 bits.
func NewUUID() UUID {
	var u UUID
	if _, err := rand.Read(u[6:]); err != nil {
		panic("driver: crypto/rand failed: " + err.Error())
	}
	ms := uint64(time.Now().UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms<<16)
	copy(u[:6], ts[:6])
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u
}

// ParseUUID parses the canonical form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx,
// or 32 hex digits without dashes.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	var hexDigits []byte
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return u, fmt.Errorf("driver: invalid UUID %q", s)
		}
		hexDigits = []byte(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	case 32:
		hexDigits = []byte(s)
	default:
		return u, fmt.Errorf("driver: invalid UUID %q: want 36 characters", s)
	}
	if _, err := hex.Decode(u[:], hexDigits); err != nil {
		return UUID{}, fmt.Errorf("driver: invalid UUID %q: %v", s, err)
	}
	return u, nil
}

// MustParseUUID is like ParseUUID but panics on a malformed string. It is
// meant for constants in tests and examples.
func MustParseUUID(s string) UUID {
	u, err := ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return u
}

// IsZero reports whether u is the zero UUID.
func (u UUID) IsZero() bool { return u == UUID{} }

// String returns the canonical lower-case form.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// MarshalText implements encoding.TextMarshaler.
func (u UUID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (u *UUID) UnmarshalText(b []byte) error {
	p, err := ParseUUID(string(b))
	if err != nil {
		return err
	}
	*u = p
	return nil
}
