package eventstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets of the serializers and their wrappers. Each serializer has
// a round trip target (values generated from the fuzzer's bytes: maps,
// slices, strings that may be invalid UTF-8, cycles, deep nesting) and a
// decoding target (arbitrary stored bytes: an error, never a panic). Their
// seed corpora are under testdata/fuzz, so that go test runs them.

type fuzzBody struct {
	ID    string
	Total float64
}

type fuzzPtrBody struct {
	ID  string
	Tag []string
}

func fuzzTypes() *TypeRegistry {
	r := NewTypeRegistry()
	if err := r.Register("fuzzBody", fuzzBody{}); err != nil {
		panic(err)
	}
	if err := r.Register("fuzzPtrBody", &fuzzPtrBody{}); err != nil {
		panic(err)
	}
	return r
}

var fuzzKey = bytes.Repeat([]byte{9}, 32)

func fuzzSerializers() map[string]Serializer {
	types := fuzzTypes()
	enc, err := EncryptWith(NewJSONSerializer(types), fuzzKey)
	if err != nil {
		panic(err)
	}
	encGob, err := EncryptWith(Compress(NewGobSerializer(types)), fuzzKey)
	if err != nil {
		panic(err)
	}
	return map[string]Serializer{
		"json":         NewJSONSerializer(types),
		"gob":          NewGobSerializer(types),
		"gzip":         Compress(NewJSONSerializer(types)),
		"aes":          enc,
		"gob+gzip+aes": encGob,
	}
}

// generated is a value built from fuzz input, with what is wrong with it.
type generated struct {
	v        any
	cycle    bool
	badUTF8  bool
	tooDeep  bool
	hasNil   bool // a nil inside a map or slice (gob cannot encode those)
	hasTyped bool // a registered struct inside (gob needs gob.Register for those)
}

type gen struct {
	data  []byte
	open  []map[string]any // the maps being built, for cycles
	g     *generated
	steps int
}

func (g *gen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

func (g *gen) str() string {
	n := int(g.byte() % 12)
	n = min(n, len(g.data))
	s := string(g.data[:n])
	g.data = g.data[n:]
	if !utf8.ValidString(s) {
		g.g.badUTF8 = true
	}
	return s
}

func (g *gen) value(depth int) any {
	g.steps++
	if g.steps > 2000 {
		return "stop"
	}
	if depth > MaxNesting {
		g.g.tooDeep = true
	}
	switch op := g.byte() % 11; op {
	case 0:
		return g.str()
	case 1:
		return float64(int8(g.byte())) / 4
	case 2:
		return g.byte()%2 == 0
	case 3:
		g.g.hasNil = true
		return nil
	case 4:
		m := map[string]any{}
		g.open = append(g.open, m)
		for range g.byte() % 4 {
			k := g.str()
			if _, dup := m[k]; dup {
				continue // the flags describe every value generated: none may be dropped
			}
			m[k] = g.value(depth + 1)
		}
		g.open = g.open[:len(g.open)-1]
		return m
	case 5:
		l := make([]any, g.byte()%4)
		for i := range l {
			l[i] = g.value(depth + 1)
		}
		return l
	case 6:
		return int(int8(g.byte()))
	case 7: // a reference to a map being built: a cycle
		if len(g.open) == 0 {
			return "no cycle"
		}
		g.g.cycle = true
		return g.open[int(g.byte())%len(g.open)]
	case 8: // a deep chain of slices
		n := int(g.byte())
		var v any = "bottom"
		for range n {
			v = []any{v}
		}
		if depth+n > MaxNesting {
			g.g.tooDeep = true
		}
		return v
	case 9:
		g.g.hasTyped = true
		return fuzzBody{ID: g.str(), Total: float64(g.byte())}
	default:
		g.g.hasTyped = true
		return &fuzzPtrBody{ID: g.str(), Tag: []string{g.str()}}
	}
}

func generate(data []byte) *generated {
	out := &generated{}
	g := &gen{data: data, g: out}
	out.v = g.value(0)
	return out
}

// fuzzPanicked fails t if err is a panic the serializer recovered from.
func fuzzPanicked(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), ": panic: ") {
		t.Fatalf("recovered panic: %v", err)
	}
}

// jsonExpected is what JSON gives back for v: registered types as they
// are, anything else in encoding/json's generic form.
func jsonExpected(t *testing.T, v any, top bool) any {
	switch v.(type) {
	case fuzzBody, *fuzzPtrBody:
		if top {
			return v
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding/json refuses what the serializer took: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func fuzzRoundTrip(t *testing.T, name string, ser Serializer, data []byte) {
	gb := generate(data)
	hv := generate(append([]byte{4}, data...)) // a map, for headers
	headers, _ := hv.v.(map[string]any)
	events := []EventMessage{{Body: gb.v, Headers: headers}}
	gob := strings.HasPrefix(name, "gob")

	payload, err := ser.MarshalCommit(headers, events)
	fuzzPanicked(t, err)
	bad := gb.cycle || gb.badUTF8 || gb.tooDeep || hv.cycle || hv.badUTF8 || hv.tooDeep || gb.v == nil
	if bad {
		if err == nil {
			t.Fatalf("%s: a bad value was encoded: %+v %+v", name, gb, hv)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: refused without a validation error: %v", name, err)
		}
		return
	}
	if err != nil {
		if gob && (gb.hasNil || hv.hasNil || gb.hasTyped || hv.hasTyped) {
			return // gob's own limits
		}
		t.Fatalf("%s: a good value was refused: %v (%#v)", name, err, gb.v)
	}
	h2, ev2, err := ser.UnmarshalCommit(payload)
	if err != nil {
		t.Fatalf("%s: cannot decode what it encoded: %v", name, err)
	}
	if len(ev2) != 1 {
		t.Fatalf("%s: %d events", name, len(ev2))
	}
	wantBody, wantH, wantEH := gb.v, any(headers), any(headers)
	if !gob {
		wantBody = jsonExpected(t, gb.v, true)
		wantH = jsonExpected(t, headers, false)
		wantEH = wantH
	}
	if len(headers) == 0 { // no headers: nil or empty, as the serializer likes
		wantH, wantEH = h2, ev2[0].Headers
		if len(h2) != 0 || len(ev2[0].Headers) != 0 {
			t.Fatalf("%s: headers out of nothing: %v %v", name, h2, ev2[0].Headers)
		}
	}
	if gob { // gob gives empty slices inside a value back as nil ones
		wantBody, wantH, wantEH = gobNormal(wantBody, true), gobNormal(wantH, true), gobNormal(wantEH, true)
		ev2[0].Body, ev2[0].Headers = gobNormal(ev2[0].Body, true), gobNormal(ev2[0].Headers, true).(map[string]any)
		h2 = gobNormal(h2, true).(map[string]any)
	}
	if !reflect.DeepEqual(ev2[0].Body, wantBody) {
		t.Fatalf("%s: body %#v came back as %#v", name, wantBody, ev2[0].Body)
	}
	if !reflect.DeepEqual(h2, wantH) || !reflect.DeepEqual(ev2[0].Headers, wantEH) {
		t.Fatalf("%s: headers %#v came back as %#v / %#v", name, wantH, h2, ev2[0].Headers)
	}

	snap, err := ser.MarshalSnapshot(gb.v)
	fuzzPanicked(t, err)
	if err != nil {
		t.Fatalf("%s: snapshot of a good value refused: %v", name, err)
	}
	state, err := ser.UnmarshalSnapshot(snap)
	if gob {
		state = gobNormal(state, true)
	}
	if err != nil || !reflect.DeepEqual(state, wantBody) {
		t.Fatalf("%s: snapshot %#v came back as %#v (%v)", name, wantBody, state, err)
	}
}

// gobNormal returns v with every empty slice below the top as nil, in
// copies.
func gobNormal(v any, top bool) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = gobNormal(e, false)
		}
		return out
	case []any:
		if len(x) == 0 && !top {
			return []any(nil)
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = gobNormal(e, false)
		}
		return out
	case *fuzzPtrBody:
		c := *x
		if len(c.Tag) == 0 {
			c.Tag = nil
		}
		return &c
	}
	return v
}

var fuzzValueSeeds = [][]byte{
	{0, 3, 'a', 'b', 'c'},
	{0, 2, 0xff, 0xfe},
	{1, 200},
	{4, 2, 1, 'k', 7, 0, 1, 'j', 5, 1, 0, 1, 'x'},
	{4, 1, 1, 'k', 4, 1, 1, 'z', 7, 1},
	{8, 120},
	{8, 99},
	{5, 3, 3, 2, 1, 6, 7},
	{9, 2, 'i', 'd', 4},
	{10, 1, 'x', 2, 0xc3, 0x28},
	{3},
}

func fuzzRoundTripTarget(f *testing.F, name string) {
	for _, s := range fuzzValueSeeds {
		f.Add(s)
	}
	ser := fuzzSerializers()[name]
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRoundTrip(t, name, ser, data) })
}

func FuzzJSONRoundTrip(f *testing.F)     { fuzzRoundTripTarget(f, "json") }
func FuzzGobRoundTrip(f *testing.F)      { fuzzRoundTripTarget(f, "gob") }
func FuzzCompressRoundTrip(f *testing.F) { fuzzRoundTripTarget(f, "gzip") }
func FuzzEncryptRoundTrip(f *testing.F)  { fuzzRoundTripTarget(f, "aes") }
func FuzzGobGzipAESRoundTrip(f *testing.F) {
	fuzzRoundTripTarget(f, "gob+gzip+aes")
}

// fuzzDecode decodes data as a commit and as a snapshot: an error or a
// value, never a panic.
func fuzzDecode(t *testing.T, ser Serializer, data []byte) {
	_, _, err := ser.UnmarshalCommit(data)
	fuzzPanicked(t, err)
	_, err = ser.UnmarshalSnapshot(data)
	fuzzPanicked(t, err)
}

func validPayloads(ser Serializer) [][]byte {
	var out [][]byte
	for _, v := range []any{"x", map[string]any{"a": []any{1.0, "b"}}, fuzzBody{"o", 1}, &fuzzPtrBody{"p", []string{"t"}}} {
		b, err := ser.MarshalCommit(map[string]any{"h": "v"}, []EventMessage{{Body: v}, {Body: 2.0}})
		if err != nil {
			panic(err)
		}
		out = append(out, b)
		b, err = ser.MarshalSnapshot(v)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzJSONDecode(f *testing.F) {
	ser := NewJSONSerializer(fuzzTypes())
	for _, p := range validPayloads(ser) {
		f.Add(p)
	}
	for _, s := range []string{"", "null", "{}", `{"events":null}`, `{"events":[{"type":"fuzzBody","body":[]}]}`,
		`{"events":[{"type":"fuzzPtrBody","body":null}]}`, `{"type":"nope","body":1}`, strings.Repeat("[", 20000)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, ser, data) })
}

func FuzzGobDecode(f *testing.F) {
	ser := NewGobSerializer(fuzzTypes())
	for _, p := range validPayloads(ser) {
		f.Add(p)
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, ser, data) })
}

// The wrappers: arbitrary bytes as stored, and arbitrary bytes wrapped
// properly (so that the inner serializer sees them too).
func FuzzCompressDecode(f *testing.F) {
	ser := Compress(NewJSONSerializer(fuzzTypes())).(*byteWrapper)
	for _, p := range validPayloads(ser) {
		f.Add(p, false)
	}
	f.Add([]byte(`{"events":[{"body":1}]}`), true)
	f.Add([]byte{0x1f, 0x8b, 8, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, wrap bool) {
		if wrap {
			var err error
			if data, err = ser.wrap(data); err != nil {
				t.Fatal(err)
			}
		}
		fuzzDecode(t, ser, data)
	})
}

func FuzzEncryptDecode(f *testing.F) {
	s, err := EncryptWith(NewJSONSerializer(fuzzTypes()), fuzzKey)
	if err != nil {
		f.Fatal(err)
	}
	ser := s.(*byteWrapper)
	for _, p := range validPayloads(ser) {
		f.Add(p, false)
	}
	f.Add([]byte(`{"events":[{"body":1}]}`), true)
	f.Add(make([]byte, 28), false)
	f.Fuzz(func(t *testing.T, data []byte, wrap bool) {
		if wrap {
			var err error
			if data, err = ser.wrap(data); err != nil {
				t.Fatal(err)
			}
		} else {
			// Bytes not sealed with the key (all but the seeds) never
			// decrypt: the error says so.
			if _, _, err := ser.UnmarshalCommit(data); err != nil && !errors.Is(err, ErrDecrypt) {
				t.Fatalf("unsealed bytes: got %v", err)
			}
		}
		fuzzDecode(t, ser, data)
	})
}

// FuzzJSONEnvelope checks that the one-pass reading of a JSON commit
// (serializer_json_read.go) decodes exactly what encoding/json's reading of
// the whole document does, and fails wherever that one fails.
func FuzzJSONEnvelope(f *testing.F) {
	ser := NewJSONSerializer(fuzzTypes()).(*jsonSerializer)
	for _, p := range validPayloads(ser) {
		f.Add(p)
	}
	for _, s := range []string{`{"events":[]}`, ` { "headers" : {"a":1} , "events" : [ { "body" : 1 , "type" : "fuzzBody" } ] } `,
		`{"events":[{"body":"x\"}"}]}`, `{"events":[{"body":1}]}x`, `{"events":[{"body":1},]}`, `{"events":[{"body":{]}]}`,
		`{"Events":[{"body":1}]}`, `{"events":[{"body":1}],"events":[]}`, `{"events":[{"type":"a\u0062","body":1}]}`,
		`{"events":[{"body":tru}]}`, `{"events":[{"body":1 2}]}`, `{"headers":null,"events":[{"headers":{},"body":null}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The headers alone: the same headers as the whole commit's, where
		// that decodes (the events are not checked, so it may read more).
		hh, herr := ser.UnmarshalHeaders(data)
		if wh, _, err := ser.UnmarshalCommit(data); err == nil && (herr != nil || !reflect.DeepEqual(hh, wh)) {
			t.Fatalf("%q: UnmarshalHeaders = %v, %v; UnmarshalCommit's headers %v", data, hh, herr, wh)
		}
		h, ev, err := ser.unmarshalCommitFast(data)
		if err != nil {
			return // read the long way, which is then the answer
		}
		var doc jsonCommit
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("one pass read %q, encoding/json refuses it: %v", data, err)
		}
		if len(doc.Events) != len(ev) || !reflect.DeepEqual(doc.Headers, h) {
			t.Fatalf("%q: one pass read %d events, headers %v; encoding/json %d, %v", data, len(ev), h, len(doc.Events), doc.Headers)
		}
		for i, e := range doc.Events {
			body, err := ser.decodeBody(e.Type, e.Body)
			if err != nil {
				t.Fatalf("%q: one pass decoded event %d, encoding/json fails: %v", data, i, err)
			}
			if !reflect.DeepEqual(body, ev[i].Body) || !reflect.DeepEqual(e.Headers, ev[i].Headers) {
				t.Fatalf("%q: event %d differs: one pass %#v %v, encoding/json %#v %v", data, i, ev[i].Body, ev[i].Headers, body, e.Headers)
			}
		}
	})
}
