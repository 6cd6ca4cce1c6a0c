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

func TestAs(t *testing.T) {
	type client struct{ name string }
	c := &client{"c"}
	var got *client
	if !As(&got, c) || got != c {
		t.Errorf("As(**client) = %v", got)
	}
	var other *int
	if As(&other, c) || other != nil {
		t.Errorf("As set an **int: %v", other)
	}
	var s interface{ String() string }
	if As(&s, c) {
		t.Error("As set an interface the client's type was not given as")
	}
}
