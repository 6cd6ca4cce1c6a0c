package eventstore

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"sync"
)

// NewGobSerializer returns a binary serializer built on encoding/gob.
// Bodies and snapshot states of types registered in types come back as
// those types. Any other body is encoded as a gob interface value, which
// gob only accepts for basic types and for types registered with
// gob.Register; an unregistered one is a validation error at commit time.
// Header values follow the same gob rules (basic types, map[string]any and
// []any are accepted), and come back with their Go types (an int stays an
// int). Like encoding/gob itself, it gives an empty slice inside a value
// (a []any in a map, a slice field) back as a nil one; a body that is an
// empty []any comes back as an empty []any.
func NewGobSerializer(types *TypeRegistry) Serializer {
	gobOnce.Do(func() {
		gob.Register(map[string]any{})
		gob.Register([]any{})
	})
	return &gobSerializer{types: types}
}

var gobOnce sync.Once

type gobSerializer struct {
	types *TypeRegistry
}

type gobCommit struct {
	Headers map[string]any
	Events  []gobEvent
}

type gobEvent struct {
	Type    string // registered name; empty: Body holds a gob interface value
	Headers map[string]any
	Body    []byte
}

func (g *gobSerializer) encodeBody(v any) (string, []byte, error) {
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	if n, ok := g.types.nameOf(v); ok {
		if err := enc.Encode(v); err != nil {
			return "", nil, err
		}
		return n.name, buf.Bytes(), nil
	}
	if err := enc.Encode(&v); err != nil {
		return "", nil, fmt.Errorf("%w (register %T with the TypeRegistry, or with gob.Register)", err, v)
	}
	return "", buf.Bytes(), nil
}

func (g *gobSerializer) decodeBody(name string, data []byte) (any, error) {
	dec := gob.NewDecoder(bytes.NewReader(data))
	if t, ok := g.types.typeOf(name); ok {
		ptr, value := newValue(t)
		if err := dec.Decode(ptr); err != nil {
			return nil, fmt.Errorf("as %s (%v): %w", name, t, err)
		}
		return value(), nil
	}
	if name != "" {
		return nil, fmt.Errorf("type %q is not registered: gob cannot decode it in a generic form", name)
	}
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil:
		return nil, errors.New("the stored value is nil")
	case []any:
		if x == nil { // gob sends an empty slice as nothing
			return []any{}, nil
		}
	}
	return v, nil
}

// MarshalCommit implements Serializer.
func (g *gobSerializer) MarshalCommit(headers map[string]any, events []EventMessage) (_ []byte, err error) {
	if err := checkCommit(headers, events, false); err != nil {
		return nil, err
	}
	defer recoverTo(&err, "encoding gob commit")
	doc := gobCommit{Headers: headers, Events: make([]gobEvent, len(events))}
	for i, e := range events {
		name, body, err := g.encodeBody(e.Body)
		if err != nil {
			return nil, fmt.Errorf("body of event %d (%T): %w", i, e.Body, err)
		}
		doc.Events[i] = gobEvent{Type: name, Headers: e.Headers, Body: body}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&doc); err != nil {
		return nil, fmt.Errorf("headers: %w", err)
	}
	return buf.Bytes(), nil
}

// UnmarshalCommit implements Serializer.
func (g *gobSerializer) UnmarshalCommit(data []byte) (_ map[string]any, _ []EventMessage, err error) {
	defer recoverTo(&err, "decoding gob commit")
	var doc gobCommit
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("decoding gob commit: %w", err)
	}
	events := make([]EventMessage, len(doc.Events))
	for i, e := range doc.Events {
		body, err := g.decodeBody(e.Type, e.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("decoding body of event %d: %w", i, err)
		}
		events[i] = EventMessage{Headers: e.Headers, Body: body}
	}
	return doc.Headers, events, nil
}

// UnmarshalHeaders implements HeadersUnmarshaler: the event bodies are
// left undecoded.
func (g *gobSerializer) UnmarshalHeaders(data []byte) (_ map[string]any, err error) {
	defer recoverTo(&err, "decoding gob commit headers")
	var doc gobCommit
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding gob commit: %w", err)
	}
	return doc.Headers, nil
}

// MarshalSnapshot implements Serializer.
func (g *gobSerializer) MarshalSnapshot(state any) (_ []byte, err error) {
	if err := checkBody("Snapshot.Payload", state, false); err != nil {
		return nil, err
	}
	defer recoverTo(&err, "encoding gob snapshot")
	name, body, err := g.encodeBody(state)
	if err != nil {
		return nil, fmt.Errorf("snapshot state (%T): %w", state, err)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&gobEvent{Type: name, Body: body}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnmarshalSnapshot implements Serializer.
func (g *gobSerializer) UnmarshalSnapshot(data []byte) (_ any, err error) {
	defer recoverTo(&err, "decoding gob snapshot")
	var doc gobEvent
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding gob snapshot: %w", err)
	}
	v, err := g.decodeBody(doc.Type, doc.Body)
	if err != nil {
		return nil, fmt.Errorf("decoding snapshot state: %w", err)
	}
	return v, nil
}

func (g *gobSerializer) marshalCommit(headers map[string]any, events []EventMessage) ([]byte, bool, error) {
	data, err := g.MarshalCommit(headers, events)
	if err != nil {
		return nil, false, err
	}
	lossless := gobPlainMap(headers)
	for i := range events {
		if _, ok := g.types.nameOf(events[i].Body); !ok || !gobPlainMap(events[i].Headers) {
			lossless = false
		}
	}
	return data, lossless, nil
}

// gobPlainMap reports whether every value of m is of a basic type that gob
// gives back unchanged.
func gobPlainMap(m map[string]any) bool {
	for _, v := range m {
		switch v.(type) {
		case string, bool, int, int64, uint64, float64:
		default:
			return false
		}
	}
	return true
}
