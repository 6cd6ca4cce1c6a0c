package mysql

import (
	"bytes"
	"database/sql"
	"testing"
	"unsafe"
)

// TestPayloadArenas checks how rowScanner.keep copies payloads out of the
// driver's buffer: short ones one after another in an arena, each capped
// so that appending to it cannot reach the next, a long one alone, NULL as
// nil and an empty payload as empty but not nil.
func TestPayloadArenas(t *testing.T) {
	var sc rowScanner
	driverBuf := []byte("first payload/second payload")
	sc.payload = sql.RawBytes(driverBuf[:13])
	first := sc.keep()
	sc.payload = sql.RawBytes(driverBuf[14:])
	second := sc.keep()
	copy(driverBuf, bytes.Repeat([]byte("x"), len(driverBuf))) // the driver reuses its buffer
	if string(first) != "first payload" || string(second) != "second payload" {
		t.Fatalf("kept %q and %q; they changed with the driver's buffer", first, second)
	}
	if cap(first) != len(first) {
		t.Fatalf("first payload has room after it (len %d, cap %d)", len(first), cap(first))
	}
	_ = append(first, "!!!"...)
	if string(second) != "second payload" {
		t.Fatalf("appending to the first payload changed the second: %q", second)
	}
	if !follows(second, first) { // what makes the arena worth having
		t.Fatalf("two short payloads were not kept side by side")
	}

	sc.payload = nil
	if p := sc.keep(); p != nil {
		t.Fatalf("NULL payload kept as %q, want nil", p)
	}
	sc.payload = sql.RawBytes(driverBuf[:0])
	if p := sc.keep(); p == nil || len(p) != 0 {
		t.Fatalf("empty payload kept as %#v, want empty, not nil", p)
	}

	long := bytes.Repeat([]byte("l"), payloadLong+1)
	sc.payload = long
	kept := sc.keep()
	if !bytes.Equal(kept, long) || &kept[0] == &long[0] || cap(kept) != len(long) {
		t.Fatalf("long payload: equal %v, copied %v, cap %d", bytes.Equal(kept, long), &kept[0] != &long[0], cap(kept))
	}
	sc.payload = sql.RawBytes("after the long one")
	if after := sc.keep(); string(after) != "after the long one" || !follows(after, second) {
		t.Fatalf("a short payload after a long one did not go on in the arena")
	}

	// A full arena starts another; the payloads already kept stay as they were.
	for range payloadArena / 100 {
		sc.payload = sql.RawBytes(bytes.Repeat([]byte("f"), 100))
		sc.keep()
	}
	if string(first) != "first payload" || string(second) != "second payload" {
		t.Fatalf("filling the arena changed the payloads kept: %q, %q", first, second)
	}
}

// follows reports whether b starts where a ends, in one array.
func follows(b, a []byte) bool {
	return unsafe.Pointer(&b[0]) == unsafe.Add(unsafe.Pointer(&a[0]), len(a))
}
