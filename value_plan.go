package eventstore

import (
	"reflect"
	"sync"
	"unicode/utf8"
)

// The fast check
//
// Every commit's values are checked before they are encoded (value.go).
// Walking a struct by reflection and asking each field's type whether it
// implements a marshaler costs more than encoding it, so the check runs in
// two passes. A fast pass follows a plan made once per type: which fields
// can hold a string or nest, which types the encoder hands to their own
// method, how many levels a part that needs no walk adds. It only answers
// whether the value is good. It keeps no path of what it visits: a cycle
// nests without end, so it fails on depth like a value too deep. Only when
// it fails does the full walk of value.go run, to find and name what is
// wrong; its answer is the one returned.

// planKind is what a plan does with a value of its type.
type planKind uint8

const (
	planFlat   planKind = iota // nothing to walk: a scalar, an opaque type, or nesting of scalars only
	planString                 // a string: valid UTF-8
	planIface                  // an interface: check what it holds
	planPtr                    // a pointer: check what it points to
	planSlice                  // a slice: check each element
	planArray                  // an array: check each element
	planMap                    // a map: check each key (strings) and value
	planStruct                 // a struct: check the fields that need it
)

// plan is how to check values of one type.
type plan struct {
	kind planKind
	// levels is, for planFlat, how many levels of nesting the type adds
	// (a struct of numbers: 1; an opaque type or a scalar: 0); for a
	// struct, the most levels any of its flat fields adds below it.
	levels int
	elem   *plan // pointer, slice, array and map elements
	strKey bool  // map keys are strings
	fields []planField
}

// planField is a struct field that needs checking.
type planField struct {
	index int
	plan  *plan
}

type planKey struct {
	t    reflect.Type
	json bool
}

// plans caches a plan per type and encoder (JSON or gob).
var plans sync.Map // planKey -> *plan

// planFor returns the plan for t, making it on first use.
func planFor(t reflect.Type, jsonMode bool) *plan {
	k := planKey{t, jsonMode}
	if p, ok := plans.Load(k); ok {
		return p.(*plan)
	}
	b := planBuilder{c: valueChecker{json: jsonMode}, made: map[reflect.Type]*plan{}}
	p := b.build(t)
	for t, q := range b.made { // a recursive type's plans are complete only now
		plans.LoadOrStore(planKey{t, jsonMode}, q)
	}
	return p
}

// planBuilder makes the plans of a type and the types it contains; made
// holds those begun, so that a recursive type refers to its own plan.
type planBuilder struct {
	c    valueChecker
	made map[reflect.Type]*plan
}

func (b *planBuilder) build(t reflect.Type) *plan {
	if p, ok := b.made[t]; ok {
		return p
	}
	p := &plan{}
	b.made[t] = p
	if t.Kind() != reflect.Interface && b.c.opaque(t) {
		return p // planFlat, no levels: the encoder's own method takes it
	}
	// Each case sets the kind before it builds the plans of the types
	// inside, so that a recursive type finds its own plan marked as one to
	// walk, not as flat.
	switch t.Kind() {
	case reflect.String:
		p.kind = planString
	case reflect.Interface:
		p.kind = planIface
	case reflect.Pointer:
		p.kind = planPtr
		p.elem = b.build(t.Elem())
	case reflect.Map:
		p.kind, p.strKey = planMap, t.Key().Kind() == reflect.String
		p.elem = b.build(t.Elem())
	case reflect.Slice, reflect.Array:
		if !deep(t.Elem()) {
			p.levels = 1 // the walk checks the depth, then stops
			return p
		}
		p.kind = planSlice
		if t.Kind() == reflect.Array {
			p.kind = planArray
		}
		p.elem = b.build(t.Elem())
	case reflect.Struct:
		p.kind = planStruct
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			if b.c.json && f.Tag.Get("json") == "-" {
				continue
			}
			if fp := b.build(f.Type); fp.kind == planFlat {
				p.levels = max(p.levels, fp.levels)
			} else {
				p.fields = append(p.fields, planField{i, fp})
			}
		}
		if len(p.fields) == 0 {
			p.kind, p.levels = planFlat, p.levels+1
		}
	}
	return p
}

// fastAny reports whether v is certainly good; false means "walk it".
func fastAny(v any, depth int, jsonMode bool) bool {
	switch x := v.(type) {
	case nil, bool, float64, int, int64:
		return true
	case string:
		return utf8.ValidString(x)
	case map[string]any:
		if len(x) == 0 {
			return true
		}
		if depth >= MaxNesting {
			return false
		}
		for k, e := range x {
			if !utf8.ValidString(k) || !fastAny(e, depth+1, jsonMode) {
				return false
			}
		}
		return true
	case []any:
		if len(x) == 0 {
			return true
		}
		if depth >= MaxNesting {
			return false
		}
		for _, e := range x {
			if !fastAny(e, depth+1, jsonMode) {
				return false
			}
		}
		return true
	}
	rv := reflect.ValueOf(v)
	return planFor(rv.Type(), jsonMode).good(rv, depth, jsonMode)
}

// good reports whether v, a value of p's type at depth, is certainly good.
func (p *plan) good(v reflect.Value, depth int, jsonMode bool) bool {
	switch p.kind {
	case planFlat:
		return p.levels == 0 || depth+p.levels <= MaxNesting
	case planString:
		return utf8.ValidString(v.String())
	case planIface:
		if v.IsNil() {
			return true
		}
		e := v.Elem()
		if e.CanInterface() {
			return fastAny(e.Interface(), depth, jsonMode)
		}
		return planFor(e.Type(), jsonMode).good(e, depth, jsonMode)
	}
	if depth >= MaxNesting {
		return false
	}
	switch p.kind {
	case planPtr:
		return v.IsNil() || p.elem.good(v.Elem(), depth+1, jsonMode)
	case planSlice, planArray:
		for i := range v.Len() {
			if !p.elem.good(v.Index(i), depth+1, jsonMode) {
				return false
			}
		}
		return true
	case planMap:
		if v.Len() == 0 {
			return true
		}
		if !p.strKey && p.elem.kind == planFlat {
			return p.elem.good(reflect.Value{}, depth+1, jsonMode)
		}
		it := v.MapRange()
		for it.Next() {
			if p.strKey && !utf8.ValidString(it.Key().String()) {
				return false
			}
			if !p.elem.good(it.Value(), depth+1, jsonMode) {
				return false
			}
		}
		return true
	case planStruct:
		if p.levels > 0 && depth+1+p.levels > MaxNesting {
			return false
		}
		for _, f := range p.fields {
			if !f.plan.good(v.Field(f.index), depth+1, jsonMode) {
				return false
			}
		}
		return true
	}
	return false
}
