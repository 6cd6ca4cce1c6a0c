package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/goeventstore/eventstore"
	"github.com/goeventstore/eventstore/relay"
)

// typedJSON reads the payloads of the store's JSON serializer for dispatch
// run, keeping what decoding into Go values would lose: each event body's
// type name (stored for registered types) and its JSON exactly as stored
// (numbers beyond float64 included). The command has no Go types to decode
// into; programs reading the messages have.
type typedJSON struct{}

// typedBody is an event body as stored: its type name ("" if its type was
// not registered) and its JSON, published as it is.
type typedBody struct {
	name string
	raw  json.RawMessage
}

// MarshalJSON returns the stored JSON.
func (b typedBody) MarshalJSON() ([]byte, error) { return b.raw, nil }

// typedName is the relay's TypeName for typed bodies: the stored type
// name, else the JSON kind ("object", "array", "string", "number",
// "bool", "null"), as relay.TypeName names generic values.
func typedName(body any) string {
	b, ok := body.(typedBody)
	if !ok {
		return relay.TypeName(body)
	}
	if b.name != "" {
		return b.name
	}
	for _, c := range b.raw {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return "object"
		case '[':
			return "array"
		case '"':
			return "string"
		case 't', 'f':
			return "bool"
		case 'n':
			return "null"
		}
		return "number"
	}
	return "null"
}

var errReadOnly = errors.New("eventstore: this serializer only reads commits")

// UnmarshalCommit decodes the JSON serializer's commit document
// {"headers":{...},"events":[{"type":"...","headers":{...},"body":...}]}.
func (typedJSON) UnmarshalCommit(data []byte) (map[string]any, []eventstore.EventMessage, error) {
	var doc struct {
		Headers map[string]any `json:"headers"`
		Events  []struct {
			Type    string          `json:"type"`
			Headers map[string]any  `json:"headers"`
			Body    json.RawMessage `json:"body"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("decoding JSON commit: %w", err)
	}
	events := make([]eventstore.EventMessage, len(doc.Events))
	for i, e := range doc.Events {
		if len(e.Body) == 0 {
			return nil, nil, fmt.Errorf("decoding JSON commit: event %d has no body", i)
		}
		events[i] = eventstore.EventMessage{Headers: e.Headers, Body: typedBody{name: e.Type, raw: e.Body}}
	}
	return doc.Headers, events, nil
}

// MarshalCommit is not supported.
func (typedJSON) MarshalCommit(map[string]any, []eventstore.EventMessage) ([]byte, error) {
	return nil, errReadOnly
}

// MarshalSnapshot is not supported.
func (typedJSON) MarshalSnapshot(any) ([]byte, error) { return nil, errReadOnly }

// UnmarshalSnapshot is not supported.
func (typedJSON) UnmarshalSnapshot([]byte) (any, error) { return nil, errReadOnly }
