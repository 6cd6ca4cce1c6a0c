package eventstore

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
)

// Types the one-pass body reader (serializer_json_body.go) is checked on:
// every kind of field it stores itself, and ones it hands to encoding/json.
type (
	bodyAll struct {
		S     string            `json:"s"`
		B     bool              `json:"b,omitempty"`
		I     int               `json:"i"`
		I8    int8              `json:"i8"`
		U16   uint16            `json:"u16"`
		F32   float32           `json:"f32"`
		F     float64           `json:"f"`
		L     []string          `json:"l"`
		N     bodyNested        `json:"n"`
		T     time.Time         `json:"t"`
		P     *int              `json:"p"`
		M     map[string]any    `json:"m"`
		A     any               `json:"a"`
		Named bodyName          `json:"named"`
		Names []bodyName        `json:"names"`
		Raw   json.RawMessage   `json:"raw"`
		Text  bodyText          `json:"text"`
		Arr   [2]int            `json:"arr"`
		Ints  []int             `json:"ints"`
		Skip  string            `json:"-"`
		Plain string            // no tag: its Go name
		Bad   string            `json:"a€b"` // not a valid name: the Go name
		MS    map[string]string `json:"ms,omitempty"`
		hid   string            //lint:ignore U1000 an unexported field: encoding/json and the plan skip it
	}
	bodyNested struct {
		X int    `json:"x"`
		Y string `json:"y"`
		Z struct {
			Q bool
		} `json:"z"`
	}
	bodyName string
	bodyText string
	// Types with no plan: encoding/json reads them whole.
	bodyEmbeds struct {
		bodyNested
		W int
	}
	bodyStringOpt struct {
		N int `json:"n,string"`
	}
)

// bodyTwice has two fields of one JSON name, which encoding/json drops both
// of (made by reflection: go vet refuses the tags written out).
var bodyTwice = reflect.StructOf([]reflect.StructField{
	{Name: "A", Type: reflect.TypeFor[int](), Tag: `json:"x"`},
	{Name: "B", Type: reflect.TypeFor[int](), Tag: `json:"x"`},
})

func (t *bodyText) UnmarshalText(b []byte) error { *t = bodyText("text:" + string(b)); return nil }

var bodyTypes = []any{bodyAll{}, &bodyAll{}, bodyNested{}, bodyEmbeds{}, bodyStringOpt{}, reflect.New(bodyTwice).Elem().Interface(), fuzzBody{}, &fuzzPtrBody{}}

// checkBodyPlan checks that decodePlanned, whenever it decodes raw, decodes
// what encoding/json does, and only what encoding/json accepts.
func checkBodyPlan(t *testing.T, raw []byte) {
	t.Helper()
	for _, v := range bodyTypes {
		typ := reflect.TypeOf(v)
		got, ok := decodePlanned(typ, raw)
		if !ok {
			continue
		}
		ptr, value := newValue(typ)
		if err := json.Unmarshal(raw, ptr); err != nil {
			t.Fatalf("%v: one pass read %q, encoding/json refuses it: %v", typ, raw, err)
		}
		if want := value(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%v: %q: one pass %#v, encoding/json %#v", typ, raw, got, want)
		}
	}
}

func TestBodyPlanReads(t *testing.T) {
	for typ, want := range map[reflect.Type]bool{
		reflect.TypeFor[bodyAll]():       true,
		reflect.TypeFor[bodyNested]():    true,
		reflect.TypeFor[bodyEmbeds]():    false,
		reflect.TypeFor[bodyStringOpt](): false,
		bodyTwice:                        false,
		reflect.TypeFor[time.Time]():     false,
	} {
		if got := bodyPlanOf(typ) != nil; got != want {
			t.Errorf("%v has a plan: %v, want %v", typ, got, want)
		}
	}
	// What MarshalCommit writes for the type is read in one pass.
	n := 7
	v := bodyAll{S: "héllo", B: true, I: -12, I8: 7, U16: 65535, F32: 1.5, F: 129.95, L: []string{"a", "b"},
		N: bodyNested{X: 1, Y: "y"}, T: time.Date(2026, 11, 23, 12, 0, 0, 5, time.UTC), P: &n,
		M: map[string]any{"k": []any{1.0, "x"}}, A: map[string]any{"z": nil}, Named: "nm", Names: []bodyName{"p"},
		Raw: json.RawMessage(`{"r":1}`), Text: "tx", Arr: [2]int{1, 2}, Ints: []int{3}, Plain: "p", Bad: "b", MS: map[string]string{"a": "b"}}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decodePlanned(reflect.TypeFor[bodyAll](), raw); !ok {
		t.Fatalf("%s: not read in one pass", raw)
	}
	checkBodyPlan(t, raw)
	for _, s := range bodySeeds {
		checkBodyPlan(t, []byte(s))
	}
}

var bodySeeds = []string{
	`{}`, ` { "s" : "x" , "i" : 1 } `, `{"s":"x","s":"y"}`, `{"S":"x"}`, `{"s":"a\"b"}`, `{"s":"a\u0062"}`,
	`{"s":"` + "\xff" + `"}`, `{"s":"` + "\x01" + `"}`, `{"i":1.0}`, `{"i":1e3}`, `{"i":-0}`, `{"i":01}`, `{"i":99999999999999999999}`,
	`{"i8":128}`, `{"u16":-1}`, `{"u16":65536}`, `{"f32":1e39}`, `{"f":1e400}`, `{"f":-.5}`, `{"f":1.}`, `{"f":0x10}`,
	`{"f":1e+2}`, `{"f":Infinity}`, `{"b":true}`, `{"b":truex}`, `{"b":null}`, `{"b":0}`, `{"l":null}`, `{"l":[]}`,
	`{"l":["a",]}`, `{"l":["a" "b"]}`, `{"l":[1]}`, `{"n":{"x":1,"z":{"Q":true}}}`, `{"n":null}`, `{"n":{"x":"1"}}`,
	`{"t":"2026-11-23T12:00:00Z"}`, `{"t":null}`, `{"t":"nope"}`, `{"t":"2026-11-23T12:00:00\u005a"}`, `{"t":1}`,
	`{"p":null}`, `{"p":3}`, `{"m":{"a":[1,{"b":null}]}}`, `{"m":{]}`, `{"a":"x"}`, `{"named":"n"}`, `{"names":["a"]}`,
	`{"raw":[1, 2]}`, `{"raw":nul}`, `{"text":"t"}`, `{"text":1}`, `{"arr":[1,2,3]}`, `{"ints":[1,"a"]}`, `{"-":"x"}`,
	`{"Plain":"p"}`, `{"Bad":"b"}`, `{"a€b":"b"}`, `{"a b":"b"}`, `{"hid":"h"}`, `{"Skip":"s"}`, `{"s":"x"}x`, `{"s":"x"`, `{"s":"x",}`,
	`{,"s":"x"}`, `{"s" "x"}`, `{"ID":"a","Total":2,"Tag":["t"]}`, `{"n":1}`, `{"x":1}`, `{"W":1,"x":2}`, `null`, `[]`,
}

// FuzzJSONBody checks that the one-pass body reader decodes exactly what
// encoding/json does, wherever it decodes at all.
func FuzzJSONBody(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkBodyPlan(t, raw) })
}

// TestPlainASCII checks the eight-bytes-at-a-time test against the plain
// one, for every byte at every place of strings up to 17 bytes.
func TestPlainASCII(t *testing.T) {
	plain := func(b []byte) bool {
		for _, c := range b {
			if c < 0x20 || c == '\\' || c >= 0x80 {
				return false
			}
		}
		return true
	}
	for n := 1; n <= 17; n++ {
		for at := range n {
			for c := range 256 {
				b := bytes.Repeat([]byte{'a'}, n)
				b[at] = byte(c)
				if got, want := plainASCII(b), plain(b); got != want {
					t.Fatalf("plainASCII(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
}

// TestStringsOwnMemory checks that the strings a body decodes to do not
// share the payload's bytes: a payload changed after decoding (an engine
// reusing its buffer) leaves them as they were.
func TestStringsOwnMemory(t *testing.T) {
	type ev struct {
		A     string   `json:"a"`
		Items []string `json:"items"`
	}
	raw := []byte(`{"a":"first","items":["x","yy","zzz"]}`)
	v, ok := decodePlanned(reflect.TypeFor[ev](), raw)
	if !ok {
		t.Fatal("the body plan did not take the body")
	}
	clear(raw)
	if got, want := v.(ev), (ev{A: "first", Items: []string{"x", "yy", "zzz"}}); got.A != want.A || !slices.Equal(got.Items, want.Items) {
		t.Fatalf("decoded %+v, after the payload changed; want %+v", got, want)
	}
}

// TestBodiesDoNotShareScratch decodes bodies of one registered type one
// after the other, and a body that fails half-way: each decoded value is
// its own, unchanged by the decodes after it (bodies are decoded into a
// pooled scratch value, then copied out).
func TestBodiesDoNotShareScratch(t *testing.T) {
	ser := NewJSONSerializer(fuzzTypes()).(*jsonSerializer)
	payload := func(id string, total string) []byte {
		return []byte(`{"events":[{"type":"fuzzBody","body":{"ID":"` + id + `","Total":` + total + `}}]}`)
	}
	var got []any
	for i, p := range [][]byte{payload("a", "1"), payload("b", "2"), []byte(`{"events":[{"type":"fuzzBody","body":{"ID":"c","Total":"x"}}]}`), payload("d", "4")} {
		_, evs, err := ser.UnmarshalCommit(p)
		if i == 2 {
			if err == nil {
				t.Fatalf("a Total that is a string decoded: %v", evs[0].Body)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, evs[0].Body)
	}
	want := []any{fuzzBody{ID: "a", Total: 1}, fuzzBody{ID: "b", Total: 2}, fuzzBody{ID: "d", Total: 4}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %v, want %v", got, want)
	}
}

// TestStringArenas decodes a payload of several events whose strings share
// arenas (short ones), overflow one into the next, or get their own
// allocation (long ones): each string reads back as written, also after
// the payload's bytes change.
func TestStringArenas(t *testing.T) {
	ser := NewJSONSerializer(fuzzTypes()).(*jsonSerializer)
	var ids []string
	var b bytes.Buffer
	b.WriteString(`{"events":[`)
	for i, n := range []int{1, 5, arenaLong, arenaLong + 1, 60, 300, arenaLong, 2, arenaLong, arenaLong, arenaLong, arenaLong} {
		id := string(bytes.Repeat([]byte{byte('a' + i)}, n))
		ids = append(ids, id)
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"fuzzBody","body":{"ID":"` + id + `","Total":1}}`)
	}
	b.WriteString(`]}`)
	payload := b.Bytes()
	_, evs, err := ser.UnmarshalCommit(payload)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for i, e := range evs {
			if got := e.Body.(fuzzBody).ID; got != ids[i] {
				t.Fatalf("%s: event %d has ID %q (%d bytes), want %d bytes of %q", when, i, got, len(got), len(ids[i]), ids[i][:1])
			}
		}
	}
	check("decoded")
	clear(payload)
	check("after the payload changed")
}
