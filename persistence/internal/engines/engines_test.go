package engines

import "testing"

func TestIntCursor(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "0": 0, "42": 42} {
		if got, err := IntCursor("x", in); err != nil || got != want {
			t.Errorf("IntCursor(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"-1", "a", "1.5", " 1"} {
		if _, err := IntCursor("x", bad); err == nil || err.Error() != `x: bad snapshot scan cursor "`+bad+`"` {
			t.Errorf("IntCursor(%q): %v", bad, err)
		}
	}
}
