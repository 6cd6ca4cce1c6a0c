package azuretables

import (
	"encoding/json"
	"testing"
)

// TestEntStr: a string property is what encoding/json makes of it, on the
// fast path (plain ASCII) and off it (quotes, escapes, HTML characters,
// control characters, Unicode, invalid UTF-8); and rowKeyOf gives back the
// row key newEnt wrote.
func TestEntStr(t *testing.T) {
	for _, v := range []string{"", "writer-01", "a b/c#d?e!", `q"uote`, `back\slash`, "<b>&", "tab\there", "nul\x00",
		"ünï©ødé", "\u2028", "bad\xffutf8", "0123456789abcdef0123456789abcdef"} {
		want, _ := json.Marshal(map[string]string{"V": v})
		got := newEnt("p", "r").str("V", v).bytes()
		var a, b map[string]string
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("str(%q): %s: %v", v, got, err)
		}
		json.Unmarshal(want, &b)
		if a["V"] != b["V"] {
			t.Errorf("str(%q) decodes to %q, want %q", v, a["V"], b["V"])
		}
		if s, _ := json.Marshal(v); string(got) != `{"PartitionKey":"p","RowKey":"r","V":`+string(s)+`}` {
			t.Errorf("str(%q) = %s, want the value as encoding/json writes it (%s)", v, got, s)
		}
	}
	for _, rk := range []string{"r", "!tail", "n0000000000000000042-0123abcd", "i7e6b0c3a-1d2e-4f50-8a9b-0c1d2e3f4a5b", "a'q z", "ü"} {
		if got := rowKeyOf(newEnt("p", rk).str("V", "x").bytes()); got != rk {
			t.Errorf("rowKeyOf(newEnt(p, %q)) = %q", rk, got)
		}
	}
}
