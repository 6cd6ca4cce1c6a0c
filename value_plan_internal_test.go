package eventstore

import (
	"strconv"
	"testing"
	"time"
)

type planInner struct {
	Name string
	n    string // unexported: neither encoder writes it
}

type planEmbedded struct{ Secret string }

type planOuter struct {
	ID      string
	Amount  float64
	Tags    []string
	Inner   planInner
	Ptr     *planInner
	Any     any
	Map     map[string]planInner
	ByNum   map[int]string
	Grid    [2][2]int
	Skipped string `json:"-"`
	At      time.Time
	planEmbedded
}

type planLoop struct {
	Name string
	Next *planLoop
}

// planA and planB refer to each other: building planA's plan meets planA
// again, unfinished, inside planB.
type planA struct{ B *planB }
type planB struct {
	A    planA
	Text string
}

type planOpaque struct{ S string }

func (planOpaque) MarshalJSON() ([]byte, error) { return []byte(`"x"`), nil }

// flat nests n levels of a struct holding only numbers.
type planFlat1 struct{ X int }
type planFlat2 struct{ F planFlat1 }

func chain(n int, last string) *planLoop {
	head := &planLoop{Name: last}
	for i := range n - 1 {
		head = &planLoop{Name: strconv.Itoa(i), Next: head}
	}
	return head
}

func nestAny(n int, leaf any) any {
	v := leaf
	for range n {
		v = []any{v}
	}
	return v
}

// TestFastCheckAgreesWithWalk checks that the planned fast check passes
// exactly the values the full walk finds nothing wrong with, in both
// encoders' modes.
func TestFastCheckAgreesWithWalk(t *testing.T) {
	bad := "\xff"
	loop := &planLoop{Name: "a"}
	loop.Next = loop
	selfMap := map[string]any{}
	selfMap["me"] = selfMap
	values := map[string]any{
		"good struct":            planOuter{ID: "x", Tags: []string{"a"}, Ptr: &planInner{Name: "p"}, Map: map[string]planInner{"k": {Name: "v"}}, Any: []any{"s", 1.0}},
		"bad tag":                planOuter{Tags: []string{"a", bad}},
		"bad inner":              planOuter{Inner: planInner{Name: bad}},
		"bad unexported field":   planOuter{Inner: planInner{n: bad}},
		"bad pointer":            &planOuter{Ptr: &planInner{Name: bad}},
		"bad any":                planOuter{Any: map[string]any{"k": []any{bad}}},
		"bad map key":            planOuter{Map: map[string]planInner{bad: {}}},
		"bad map value":          planOuter{Map: map[string]planInner{"k": {Name: bad}}},
		"bad int-keyed value":    planOuter{ByNum: map[int]string{1: bad}},
		"bad skipped field":      planOuter{Skipped: bad},
		"bad embedded":           planOuter{planEmbedded: planEmbedded{Secret: bad}},
		"pointer cycle":          loop,
		"map cycle":              selfMap,
		"chain 49":               chain(49, "end"), // a pointer and a struct each: 98 levels
		"chain 51":               chain(51, "end"),
		"chain bad end":          chain(5, bad),
		"mutual types":           planA{B: &planB{Text: "ok"}},
		"mutual types bad":       planA{B: &planB{Text: bad}},
		"opaque":                 planOpaque{S: bad},
		"opaque pointer":         &planOpaque{S: bad},
		"flat nesting":           planFlat2{},
		"flat at the limit":      nestAny(MaxNesting-2, planFlat2{}),
		"flat past the limit":    nestAny(MaxNesting-1, planFlat2{}),
		"array at the limit":     nestAny(MaxNesting-1, [1]int{}),
		"array past the limit":   nestAny(MaxNesting, [1]int{}),
		"any at the limit":       nestAny(MaxNesting, "x"),
		"any past the limit":     nestAny(MaxNesting+1, "x"),
		"nil pointer past limit": nestAny(MaxNesting, (*planInner)(nil)),
		"empty map":              map[string]planInner{},
		"string":                 "plain",
		"bad string":             bad,
	}
	for _, jsonMode := range []bool{true, false} {
		for name, v := range values {
			c := valueChecker{json: jsonMode}
			walk := c.any(v, 0)
			if fast := fastAny(v, 0, jsonMode); fast != (walk == nil) {
				t.Errorf("%s (json %v): fast check says good=%v, the walk found %+v", name, jsonMode, fast, walk)
			}
		}
	}
	// Spot checks that the walk itself judges these as meant.
	for name, wantBad := range map[string]bool{"bad tag": true, "pointer cycle": true, "chain 49": false, "chain 51": true,
		"flat at the limit": false, "flat past the limit": true, "opaque": false, "mutual types bad": true} {
		c := valueChecker{json: true}
		if got := c.any(values[name], 0) != nil; got != wantBad {
			t.Errorf("%s: walk found something wrong = %v, want %v", name, got, wantBad)
		}
	}
}
