package eventstore

import (
	"encoding"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// MaxNesting is how deeply the values the serializers of this package
// encode (event bodies, header values, snapshot states) may nest: maps,
// slices, arrays, structs and pointers each count as a level. A deeper
// value, or one that contains itself (a map holding itself, a pointer
// cycle), is a *ValidationError matching ErrInvalid that names the field,
// and nothing is written.
//
// The same goes for a string inside those values (or a map key) that is
// not valid UTF-8: JSON would store it changed (invalid bytes become
// U+FFFD), so every serializer of this package refuses it, and what it
// reads back is byte for byte what was written. A nil body or state, also
// a typed nil (a nil pointer, map or slice), is refused too.
const MaxNesting = 100

// valueChecker walks a value before it is encoded.
type valueChecker struct {
	json bool       // skip what encoding/json skips (json:"-" fields) and stop at json.Marshaler
	path []visiting // the maps, slices and pointers being walked, for cycles
}

// visiting identifies a map, slice or pointer: a slice by its array and
// length, anything by its type too (a struct and its first field share an
// address).
type visiting struct {
	p uintptr
	n int
	t reflect.Type
}

// badValue is what the walk finds wrong: at which path below the checked
// value (built on the way out, so that a good value costs no allocation).
type badValue struct {
	at     string
	reason string
}

// checkBody checks an event body or snapshot state: not nil (also not a
// typed nil), acyclic, not too deep, strings valid UTF-8.
func checkBody(field string, v any, jsonMode bool) error {
	if isNil(v) {
		return &ValidationError{Field: field, Value: fmt.Sprintf("%T", v), Reason: "must not be nil"}
	}
	if fastAny(v, 0, jsonMode) {
		return nil
	}
	c := valueChecker{json: jsonMode}
	return c.result(field, c.any(v, 0))
}

func (c *valueChecker) result(field string, bad *badValue) error {
	if bad == nil {
		return nil
	}
	return &ValidationError{Field: field + bad.at, Reason: bad.reason}
}

// isNil reports whether v is nil or a typed nil (pointer, map, slice,
// interface, function or channel).
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

var (
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	gobEncoderType      = reflect.TypeFor[gob.GobEncoder]()
	binaryMarshalerType = reflect.TypeFor[encoding.BinaryMarshaler]()
	mapStringAnyType    = reflect.TypeFor[map[string]any]()
	sliceAnyType        = reflect.TypeFor[[]any]()
)

// opaque reports whether the encoder hands t to its own method rather than
// walking it.
func (c *valueChecker) opaque(t reflect.Type) bool {
	if c.json {
		return t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType)
	}
	return t.Implements(gobEncoderType) || t.Implements(binaryMarshalerType)
}

const (
	badUTF8    = "must be valid UTF-8 (it would not be stored unchanged)"
	badKeyUTF8 = "has a key that is not valid UTF-8 (it would not be stored unchanged)"
	badCycle   = "contains itself (a cycle cannot be serialized)"
	badNesting = "nests deeper than MaxNesting (100 levels)"
)

// below prefixes bad's path with seg.
func below(seg string, bad *badValue) *badValue {
	bad.at = seg + bad.at
	return bad
}

// any checks v, with fast paths for the generic forms.
func (c *valueChecker) any(v any, depth int) *badValue {
	switch x := v.(type) {
	case nil, bool, float64, int, int64:
		return nil
	case string:
		if !utf8.ValidString(x) {
			return &badValue{reason: badUTF8}
		}
		return nil
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
		if depth >= MaxNesting {
			return &badValue{reason: badNesting}
		}
		if bad := c.enter(reflect.ValueOf(x).Pointer(), -1, mapStringAnyType); bad != nil {
			return bad
		}
		defer c.leave()
		for k, e := range x {
			if !utf8.ValidString(k) {
				return &badValue{reason: badKeyUTF8}
			}
			if bad := c.any(e, depth+1); bad != nil {
				return below("["+keyString(reflect.ValueOf(k))+"]", bad)
			}
		}
		return nil
	case []any:
		if len(x) == 0 {
			return nil
		}
		if depth >= MaxNesting {
			return &badValue{reason: badNesting}
		}
		if bad := c.enter(uintptr(unsafe.Pointer(unsafe.SliceData(x))), len(x), sliceAnyType); bad != nil {
			return bad
		}
		defer c.leave()
		for i, e := range x {
			if bad := c.any(e, depth+1); bad != nil {
				return below("["+strconv.Itoa(i)+"]", bad)
			}
		}
		return nil
	}
	return c.value(reflect.ValueOf(v), depth)
}

func (c *valueChecker) value(v reflect.Value, depth int) *badValue {
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	if t.Kind() != reflect.Interface && c.opaque(t) {
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			return &badValue{reason: badUTF8}
		}
		return nil
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		e := v.Elem()
		if e.CanInterface() {
			return c.any(e.Interface(), depth)
		}
		return c.value(e, depth)
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Array, reflect.Struct:
	default:
		return nil
	}
	if depth >= MaxNesting {
		return &badValue{reason: badNesting}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if bad := c.enter(v.Pointer(), 0, t); bad != nil {
			return bad
		}
		defer c.leave()
		return c.value(v.Elem(), depth+1)
	case reflect.Map:
		if v.IsNil() || v.Len() == 0 {
			return nil
		}
		if bad := c.enter(v.Pointer(), -1, t); bad != nil {
			return bad
		}
		defer c.leave()
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			if k.Kind() == reflect.String && !utf8.ValidString(k.String()) {
				return &badValue{reason: badKeyUTF8}
			}
			if bad := c.value(it.Value(), depth+1); bad != nil {
				return below("["+keyString(k)+"]", bad)
			}
		}
		return nil
	case reflect.Slice:
		if v.IsNil() || v.Len() == 0 || !deep(t.Elem()) {
			return nil
		}
		if bad := c.enter(v.Pointer(), v.Len(), t); bad != nil {
			return bad
		}
		defer c.leave()
		return c.elems(v, depth)
	case reflect.Array:
		if !deep(t.Elem()) {
			return nil
		}
		return c.elems(v, depth)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			if c.json && f.Tag.Get("json") == "-" {
				continue
			}
			if bad := c.value(v.Field(i), depth+1); bad != nil {
				return below("."+f.Name, bad)
			}
		}
		return nil
	}
	return nil
}

func (c *valueChecker) elems(v reflect.Value, depth int) *badValue {
	for i := range v.Len() {
		if bad := c.value(v.Index(i), depth+1); bad != nil {
			return below("["+strconv.Itoa(i)+"]", bad)
		}
	}
	return nil
}

// deep reports whether values of t can hold strings, or nest.
func deep(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	}
	return true
}

func (c *valueChecker) enter(p uintptr, n int, t reflect.Type) *badValue {
	k := visiting{p, n, t}
	for _, q := range c.path {
		if q == k {
			return &badValue{reason: badCycle}
		}
	}
	c.path = append(c.path, k)
	return nil
}

func (c *valueChecker) leave() { c.path = c.path[:len(c.path)-1] }

// keyString formats a map key for a field path, shortened if long.
func keyString(k reflect.Value) string {
	var s string
	if k.Kind() == reflect.String {
		s = strconv.Quote(k.String())
	} else if k.CanInterface() {
		s = fmt.Sprint(k.Interface())
	} else {
		s = "?"
	}
	if len(s) > 40 {
		s = strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}

// checkCommit checks a commit's headers and events before they are encoded.
func checkCommit(headers map[string]any, events []EventMessage, jsonMode bool) error {
	if fastCommit(headers, events, jsonMode) {
		return nil
	}
	var buf [16]visiting
	c := valueChecker{json: jsonMode, path: buf[:0]}
	if len(headers) > 0 {
		if bad := c.any(headers, 0); bad != nil {
			return c.result("Headers", bad)
		}
	}
	for i := range events {
		e := &events[i]
		if isNil(e.Body) {
			return &ValidationError{Field: "Events[" + strconv.Itoa(i) + "].Body", Value: fmt.Sprintf("%T", e.Body), Reason: "must not be nil"}
		}
		if len(e.Headers) > 0 {
			if bad := c.any(e.Headers, 0); bad != nil {
				return c.result("Events["+strconv.Itoa(i)+"].Headers", bad)
			}
		}
		if bad := c.any(e.Body, 0); bad != nil {
			return c.result("Events["+strconv.Itoa(i)+"].Body", bad)
		}
	}
	return nil
}

// fastCommit reports whether a commit's headers and events are certainly
// good (see value_plan.go); false means checkCommit walks them to say what
// is wrong.
func fastCommit(headers map[string]any, events []EventMessage, jsonMode bool) bool {
	if len(headers) > 0 && !fastAny(headers, 0, jsonMode) {
		return false
	}
	for i := range events {
		e := &events[i]
		if isNil(e.Body) || len(e.Headers) > 0 && !fastAny(e.Headers, 0, jsonMode) || !fastAny(e.Body, 0, jsonMode) {
			return false
		}
	}
	return true
}

// recoverTo turns a panic (in a type's own MarshalJSON, say) into an error.
func recoverTo(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: panic: %v", what, r)
	}
}
