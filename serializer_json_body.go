package eventstore

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Decoding a body into its struct in one pass
//
// encoding/json reads a body twice (once to validate it, once to decode
// it), and finds each field by reflection as it goes. For a registered
// struct type that is most of what reading a commit costs. So each such
// type gets a body plan, made once: for each field, its JSON name and how
// to store a value into it. A body is then read in one pass that checks
// the JSON as it stores each value.
//
// The pass takes only what MarshalCommit writes for the type: an object
// whose keys are field names spelt exactly, each once, with strings
// without escapes and numbers that fit their fields. A field the plan does
// not store itself (a map, a pointer, an interface, a slice of anything
// but strings, a type with its own UnmarshalText) gets its value's bytes
// decoded by encoding/json into it; one with its own UnmarshalJSON gets
// that called, as encoding/json would. Anything else (another key, an
// escape, a number out of range, a value of the wrong kind) sends the body
// to encoding/json's own reading of the whole, and so does any error, so
// that what a body decodes to, or the error it gives, is the same either
// way. A struct with embedded fields, or a field tagged ",string", has no
// plan: encoding/json reads it.

// bodyPlan is how to decode a JSON object into one struct type.
type bodyPlan struct {
	fields []bodyField
	// scratch holds *T values to decode a body of a non-pointer type T
	// into before it is copied into the interface that holds it: without
	// it, every body would cost two allocations (the value, and its copy).
	scratch sync.Pool
}

// bodyKind is how a field's value is stored.
type bodyKind uint8

const (
	bodyString      bodyKind = iota // a string kind
	bodyBool                        // a bool kind
	bodyInt                         // a signed integer kind
	bodyUint                        // an unsigned integer kind
	bodyFloat                       // a float kind
	bodyStrings                     // a slice of a string kind
	bodyStruct                      // a struct with a plan of its own
	bodyUnmarshaler                 // a type whose pointer has UnmarshalJSON
	bodyJSON                        // anything else: encoding/json decodes the value
)

// bodyField is one field of a plan. A value is stored at the field's
// offset from the struct's address, through a pointer of the field's
// kind, as the compiler would store it: no reflect.Value per field.
type bodyField struct {
	name   string
	offset uintptr      // from the start of the struct
	typ    reflect.Type // the field's type
	size   uintptr      // bytes of a number kind's field: 1, 2, 4 or 8
	kind   bodyKind
	sub    *bodyPlan // bodyStruct
}

var (
	bodyPlans       sync.Map // reflect.Type -> *bodyPlan, nil if the type has none
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// bodyPlanOf returns the plan of struct type t, or nil.
func bodyPlanOf(t reflect.Type) *bodyPlan {
	if p, ok := bodyPlans.Load(t); ok {
		return p.(*bodyPlan)
	}
	p := makeBodyPlan(t, 0)
	bodyPlans.Store(t, p)
	return p
}

// makeBodyPlan makes the plan of t; depth bounds nested structs.
func makeBodyPlan(t reflect.Type, depth int) *bodyPlan {
	if t.Kind() != reflect.Struct || depth > 8 || unmarshals(t) {
		return nil
	}
	p := &bodyPlan{}
	names := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil // embedding: encoding/json's promotion rules apply
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		if !validTagName(name) {
			name = sf.Name
		}
		for opts != "" {
			var o string
			o, opts, _ = strings.Cut(opts, ",")
			if o == "string" {
				return nil
			}
		}
		if names[name] {
			return nil // two fields of one name: encoding/json drops both
		}
		names[name] = true
		ft := sf.Type
		f := bodyField{name: name, offset: sf.Offset, typ: ft, size: ft.Size(), kind: bodyJSON}
		switch {
		case reflect.PointerTo(ft).Implements(jsonUnmarshaler):
			if ft.Kind() != reflect.Pointer && ft.Kind() != reflect.Interface {
				f.kind = bodyUnmarshaler
			}
		case reflect.PointerTo(ft).Implements(textUnmarshaler):
		default:
			switch ft.Kind() {
			case reflect.String:
				f.kind = bodyString
			case reflect.Bool:
				f.kind = bodyBool
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				f.kind = bodyInt
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
				f.kind = bodyUint
			case reflect.Float32, reflect.Float64:
				f.kind = bodyFloat
			case reflect.Slice:
				if et := ft.Elem(); et.Kind() == reflect.String && !unmarshals(et) {
					f.kind = bodyStrings
				}
			case reflect.Struct:
				if f.sub = makeBodyPlan(ft, depth+1); f.sub != nil {
					f.kind = bodyStruct
				}
			}
		}
		p.fields = append(p.fields, f)
	}
	if len(p.fields) > 64 {
		return nil // more than object's bit set of fields seen holds
	}
	return p
}

// unmarshals reports whether t or *t decodes itself.
func unmarshals(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler)
}

// validTagName is encoding/json's test of a name given in a tag.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// decodeBodyPlan decodes raw into the struct of plan p's type at v. ok is
// false if raw is not for the one pass (or has an error): the struct is
// then to be thrown away and raw read by encoding/json.
func decodeBodyPlan(p *bodyPlan, raw []byte, v unsafe.Pointer) (ok bool) {
	s := envelope{data: raw}
	if !p.object(&s, v) {
		return false
	}
	s.ws()
	return s.i == len(raw)
}

// object decodes the object that starts here into the struct at v.
func (p *bodyPlan) object(s *envelope, v unsafe.Pointer) bool {
	if !s.next('{') {
		return false
	}
	var seen uint64
	first, next := true, 0
	for !s.next('}') {
		if !first && !s.next(',') {
			return false
		}
		first = false
		k, ok := s.plainString()
		if !ok || !s.next(':') {
			return false
		}
		fi := p.field(k, next)
		next = fi + 1
		if fi < 0 || seen&(1<<fi) != 0 {
			return false // unknown (or differently spelt) or repeated: encoding/json's rules
		}
		seen |= 1 << fi
		f := &p.fields[fi]
		if !f.store(s, unsafe.Add(v, f.offset)) {
			return false
		}
	}
	return true
}

// field returns the index of the field named k, or -1. Fields come in
// the order MarshalCommit writes them: next, the one after the last, is
// tried first.
func (p *bodyPlan) field(k []byte, next int) int {
	if next < len(p.fields) && p.fields[next].name == string(k) {
		return next
	}
	for i := range p.fields {
		if p.fields[i].name == string(k) {
			return i
		}
	}
	return -1
}

// store decodes the value that starts here into the field at fp.
func (f *bodyField) store(s *envelope, fp unsafe.Pointer) bool {
	s.ws()
	if s.i >= len(s.data) {
		return false
	}
	c := s.data[s.i]
	if c == 'n' && f.kind != bodyUnmarshaler && f.kind != bodyJSON {
		return s.literal("null") // leaves the zero value, as encoding/json does
	}
	switch f.kind {
	case bodyString:
		str, ok := s.plainString()
		if ok {
			*(*string)(fp) = s.str(str)
		}
		return ok
	case bodyBool:
		switch c {
		case 't':
			*(*bool)(fp) = true
			return s.literal("true")
		case 'f':
			return s.literal("false")
		}
		return false
	case bodyInt:
		n, ok := s.number()
		if !ok {
			return false
		}
		i, err := strconv.ParseInt(string(n), 10, int(8*f.size))
		if err != nil {
			return false
		}
		switch f.size {
		case 1:
			*(*int8)(fp) = int8(i)
		case 2:
			*(*int16)(fp) = int16(i)
		case 4:
			*(*int32)(fp) = int32(i)
		default:
			*(*int64)(fp) = i
		}
		return true
	case bodyUint:
		n, ok := s.number()
		if !ok {
			return false
		}
		u, err := strconv.ParseUint(string(n), 10, int(8*f.size))
		if err != nil {
			return false
		}
		switch f.size {
		case 1:
			*(*uint8)(fp) = uint8(u)
		case 2:
			*(*uint16)(fp) = uint16(u)
		case 4:
			*(*uint32)(fp) = uint32(u)
		default:
			*(*uint64)(fp) = u
		}
		return true
	case bodyFloat:
		n, ok := s.number()
		if !ok {
			return false
		}
		x, err := strconv.ParseFloat(string(n), int(8*f.size))
		if err != nil {
			return false
		}
		if f.size == 4 {
			*(*float32)(fp) = float32(x)
		} else {
			*(*float64)(fp) = x
		}
		return true
	case bodyStrings:
		return s.strings((*[]string)(fp)) // any slice of a string kind is laid out as []string
	case bodyStruct:
		return f.sub.object(s, fp)
	case bodyUnmarshaler:
		raw, err := s.value()
		if err != nil {
			return false
		}
		u := reflect.NewAt(f.typ, fp).Interface().(json.Unmarshaler)
		if raw[0] == '"' && plainQuoted(raw) {
			return u.UnmarshalJSON(raw) == nil
		}
		return json.Unmarshal(raw, u) == nil
	default:
		raw, err := s.value()
		return err == nil && json.Unmarshal(raw, reflect.NewAt(f.typ, fp).Interface()) == nil
	}
}

// Bounds of a string arena (see str).
const (
	arenaMax  = 512 // bytes of one arena at most
	arenaLong = 128 // a string longer than this has its own allocation
)

// str returns b as a string. Its bytes are copied into the arena, which
// the strings of every body of the payload share: one allocation for all
// of them rather than one each (a body of a few strings cost as many
// allocations, and the collector's time with them, as the rest of its
// decoding: BenchmarkReadAll went from 10 allocations per commit to 4).
// An arena holds half the payload's bytes left (strings are part of
// them), at most arenaMax, so a string kept keeps little else alive; a
// long string gets its own allocation. Bytes in an arena are never
// written twice: a string that does not fit starts a new arena.
func (s *envelope) str(b []byte) string {
	n := len(b)
	switch {
	case n == 0:
		return ""
	case n > arenaLong:
		return string(b)
	}
	if cap(s.arena)-len(s.arena) < n {
		s.arena = make([]byte, 0, max(n, min((len(s.data)-s.i)/2+n, arenaMax)))
	}
	at := len(s.arena)
	s.arena = append(s.arena, b...)
	return unsafe.String(&s.arena[at], n)
}

// plainString reads a string with no escape, no control character and
// valid UTF-8, and returns its contents (a slice of the input).
func (s *envelope) plainString() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	end := bytes.IndexByte(s.data[s.i:], '"')
	if end < 0 {
		return nil, false
	}
	str := s.data[s.i : s.i+end]
	if !plainASCII(str) && !plainUTF8(str) {
		return nil, false
	}
	s.i += end + 1
	return str, true
}

// plainASCII reports whether str is ASCII with no backslash and no control
// character, eight bytes at a time.
func plainASCII(str []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(str) >= 8 {
		x := binary.LittleEndian.Uint64(str)
		bs := x ^ ('\\' * ones) // a zero byte where x has a backslash
		// A byte at or above 0x80, under 0x20 (Mycroft's test for bytes
		// below n), or a backslash (zero in bs) sets a high bit.
		if (x|(x-0x20*ones)&^x|(bs-ones)&^bs)&highs != 0 {
			return false
		}
		str = str[8:]
	}
	for _, c := range str {
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// plainUTF8 reports whether str is valid UTF-8 with no backslash and no
// control character.
func plainUTF8(str []byte) bool {
	for _, c := range str {
		if c < 0x20 || c == '\\' {
			return false
		}
	}
	return utf8.Valid(str)
}

// plainQuoted reports whether raw, a value found by envelope.value that
// starts with a quote, is a JSON string with no escape and no control
// character (its UTF-8 is left to the Unmarshaler, as encoding/json does).
func plainQuoted(raw []byte) bool {
	if len(raw) < 2 || raw[len(raw)-1] != '"' {
		return false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c == '\\' || c < 0x20 || c == '"' {
			return false
		}
	}
	return true
}

// literal reads the literal lit.
func (s *envelope) literal(lit string) bool {
	if !bytes.HasPrefix(s.data[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return s.i == len(s.data) || !isLiteralByte(s.data[s.i])
}

func isLiteralByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '+' || c == '-'
}

// number reads a number in JSON's grammar and returns its text:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *envelope) number() ([]byte, bool) {
	d, start := s.data, s.i
	i := s.i
	digits := func() bool {
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		return nil, false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	if i < len(d) && isLiteralByte(d[i]) {
		return nil, false
	}
	s.i = i
	return d[start:i], true
}

// strings reads an array of plain strings into *out.
func (s *envelope) strings(out *[]string) bool {
	if !s.next('[') {
		return false
	}
	var items [][]byte
	var buf [8][]byte
	items = buf[:0]
	for !s.next(']') {
		if len(items) > 0 && !s.next(',') {
			return false
		}
		str, ok := s.plainString()
		if !ok {
			return false
		}
		items = append(items, str)
	}
	strs := make([]string, len(items))
	for i, b := range items {
		strs[i] = s.str(b)
	}
	*out = strs
	return true
}

// decodePlanned decodes raw into a new value of t (a struct type or a
// pointer to one) in one pass; ok is false if encoding/json is to read it.
func decodePlanned(t reflect.Type, raw []byte) (_ any, ok bool) {
	st := t
	if t.Kind() == reflect.Pointer {
		st = t.Elem()
	}
	if len(raw) == 0 || raw[0] != '{' || st.Kind() != reflect.Struct {
		return nil, false
	}
	p := bodyPlanOf(st)
	if p == nil {
		return nil, false
	}
	ptr := reflect.New(st)
	if !decodeBodyPlan(p, raw, ptr.UnsafePointer()) {
		return nil, false
	}
	if t.Kind() == reflect.Pointer {
		return ptr.Interface(), true
	}
	return ptr.Elem().Interface(), true
}

// bodyAt decodes the body that starts here, of the registered type named
// typeName, in one pass, where the envelope holds it; ok is false (and s
// where it was) if the type has no plan or the pass does not take the
// body.
func (j *jsonSerializer) bodyAt(s *envelope, typeName []byte) (_ any, ok bool) {
	if j.types == nil {
		return nil, false
	}
	t, found := j.types.state.Load().byName[string(typeName)]
	if !found {
		return nil, false
	}
	st := t
	if t.Kind() == reflect.Pointer {
		st = t.Elem()
	}
	if st.Kind() != reflect.Struct {
		return nil, false
	}
	p := bodyPlanOf(st)
	if p == nil {
		return nil, false
	}
	start := s.i
	if t.Kind() == reflect.Pointer {
		ptr := reflect.New(st)
		if !p.object(s, ptr.UnsafePointer()) {
			s.i = start
			return nil, false
		}
		return ptr.Interface(), true
	}
	var v reflect.Value
	if x := p.scratch.Get(); x != nil {
		v = reflect.ValueOf(x).Elem()
	} else {
		v = reflect.New(st).Elem()
	}
	defer func() {
		v.SetZero()
		p.scratch.Put(v.Addr().Interface())
	}()
	if !p.object(s, v.Addr().UnsafePointer()) {
		s.i = start
		return nil, false
	}
	return v.Interface(), true // a copy: the scratch value goes back to the pool
}
