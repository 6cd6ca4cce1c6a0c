package eventstore

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
)

// Serializer turns what the store writes into bytes and back: the headers
// and events of a commit, and the state of a snapshot. The store keeps
// those bytes in the engine's opaque payload. Implementations must be safe
// for concurrent use.
//
// The package offers JSON (the default, [NewJSONSerializer]) and encoding/gob
// ([NewGobSerializer]), and two wrappers in the manner of NEventStore's
// Compress() and EncryptWith(): [Compress] and [EncryptWith]. An error from
// a Marshal method is reported by the store as a [*ValidationError] naming
// the stream, and nothing is written.
type Serializer interface {
	// MarshalCommit encodes a commit's headers and events.
	MarshalCommit(headers map[string]any, events []EventMessage) ([]byte, error)
	// UnmarshalCommit decodes what MarshalCommit produced.
	UnmarshalCommit(data []byte) (headers map[string]any, events []EventMessage, err error)
	// MarshalSnapshot encodes a snapshot's state.
	MarshalSnapshot(state any) ([]byte, error)
	// UnmarshalSnapshot decodes what MarshalSnapshot produced.
	UnmarshalSnapshot(data []byte) (any, error)
}

// HeadersUnmarshaler is a Serializer that can decode a commit's headers
// without its events, which is what Store.DecodeHeaders asks for. The
// serializers of this package implement it (Compress and EncryptWith when
// the serializer they wrap does).
type HeadersUnmarshaler interface {
	// UnmarshalHeaders returns the headers that UnmarshalCommit would
	// return for data. It need not decode, or check, the events.
	UnmarshalHeaders(data []byte) (map[string]any, error)
}

// headersOf returns the headers of the commit data holds: with ser's
// UnmarshalHeaders if it has one, else from its UnmarshalCommit.
func headersOf(ser Serializer, data []byte) (map[string]any, error) {
	if h, ok := ser.(HeadersUnmarshaler); ok {
		return h.UnmarshalHeaders(data)
	}
	headers, _, err := ser.UnmarshalCommit(data)
	return headers, err
}

// commitMarshaler is implemented by the serializers of this package.
// marshalCommit is MarshalCommit that also reports whether decoding the
// result would give back values equal to headers and events, so that the
// in-process form can be handed to the memory engine
// (persistence.Engine.CommitValue) and reads can skip decoding.
type commitMarshaler interface {
	marshalCommit(headers map[string]any, events []EventMessage) (data []byte, lossless bool, err error)
}

// TypeRegistry maps names to Go types, so that an event body or snapshot
// state committed as a registered type is read back as that same type.
// Stored data holds the name, never the Go type's own name: keep a name
// when you rename or move the type. A body whose type is not registered is
// read back in the serializer's generic form (for JSON, what encoding/json
// gives for an any: map[string]any, []any, float64, string, bool or nil).
//
// A registered type must survive the serializer unchanged: exported fields
// (JSON and gob see only those), no interface-typed fields whose concrete
// types matter. The zero value is not usable: call NewTypeRegistry. It is
// safe for concurrent use; registering is meant for start-up.
type TypeRegistry struct {
	mu    sync.Mutex // serializes Register
	state atomic.Pointer[typeState]
}

type typeState struct {
	byName map[string]reflect.Type
	byType map[reflect.Type]typeName
}

// typeName is a registered name with its JSON encoding.
type typeName struct {
	name   string
	quoted []byte
}

// NewTypeRegistry returns an empty registry.
func NewTypeRegistry() *TypeRegistry {
	r := &TypeRegistry{}
	r.state.Store(&typeState{byName: map[string]reflect.Type{}, byType: map[reflect.Type]typeName{}})
	return r
}

// Register records the type of sample under name. Bodies of exactly that
// type (a struct value, or a pointer to one if sample is a pointer) are
// then read back as that type. Registering the same type under the same
// name again is allowed; reusing a name or a type for something else is a
// *ValidationError.
func (r *TypeRegistry) Register(name string, sample any) error {
	if name == "" {
		return &ValidationError{Field: "type name", Reason: "must not be empty"}
	}
	if sample == nil {
		return &ValidationError{Field: "type sample", Value: name, Reason: "must not be nil"}
	}
	t := reflect.TypeOf(sample)
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.state.Load()
	if prev, ok := old.byName[name]; ok {
		if prev == t {
			return nil
		}
		return &ValidationError{Field: "type name", Value: name, Reason: fmt.Sprintf("is already registered for %v", prev)}
	}
	if prev, ok := old.byType[t]; ok {
		return &ValidationError{Field: "type", Value: t.String(), Reason: fmt.Sprintf("is already registered as %q", prev.name)}
	}
	next := &typeState{
		byName: make(map[string]reflect.Type, len(old.byName)+1),
		byType: make(map[reflect.Type]typeName, len(old.byType)+1),
	}
	for k, v := range old.byName {
		next.byName[k] = v
	}
	for k, v := range old.byType {
		next.byType[k] = v
	}
	next.byName[name] = t
	next.byType[t] = typeName{name: name, quoted: quoteJSON(name)}
	r.state.Store(next)
	return nil
}

// nameOf returns the registered name of v's type.
func (r *TypeRegistry) nameOf(v any) (typeName, bool) {
	if r == nil || v == nil {
		return typeName{}, false
	}
	n, ok := r.state.Load().byType[reflect.TypeOf(v)]
	return n, ok
}

// typeOf returns the type registered under name.
func (r *TypeRegistry) typeOf(name string) (reflect.Type, bool) {
	if r == nil || name == "" {
		return nil, false
	}
	t, ok := r.state.Load().byName[name]
	return t, ok
}

// newValue returns a pointer to decode into for type t, and a function that
// turns it into the value to hand back (t itself).
func newValue(t reflect.Type) (ptr any, value func() any) {
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		return p.Interface(), func() any { return p.Interface() }
	}
	p := reflect.New(t)
	return p.Interface(), func() any { return p.Elem().Interface() }
}
