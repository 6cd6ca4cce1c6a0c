package eventstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"unicode/utf8"
)

// NewJSONSerializer returns the default serializer: encoding/json, with
// types naming the Go types that bodies and snapshot states are read back
// as (nil: none are, everything comes back in generic form).
//
// A commit is stored as
//
//	{"headers":{...},"events":[{"type":"OrderPlaced","headers":{...},"body":{...}}]}
//
// with "type" present only for registered types and "headers" only when
// there are some. Header values always come back in encoding/json's
// generic form (numbers as float64). A snapshot is stored as
// {"type":"...","body":...}.
func NewJSONSerializer(types *TypeRegistry) Serializer {
	return &jsonSerializer{types: types}
}

type jsonSerializer struct {
	types *TypeRegistry
}

// jsonBuf is a pooled output buffer with an encoder writing into it.
type jsonBuf struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonBufs = sync.Pool{New: func() any {
	b := &jsonBuf{}
	b.enc = json.NewEncoder(&b.buf)
	b.enc.SetEscapeHTML(false)
	return b
}}

func getJSONBuf() *jsonBuf {
	b := jsonBufs.Get().(*jsonBuf)
	b.buf.Reset()
	return b
}

func putJSONBuf(b *jsonBuf) {
	if b.buf.Cap() <= 64<<10 {
		jsonBufs.Put(b)
	}
}

// value appends the JSON encoding of v.
func (b *jsonBuf) value(v any) error {
	if err := b.enc.Encode(v); err != nil {
		return err
	}
	b.buf.Truncate(b.buf.Len() - 1) // Encode ends with a newline
	return nil
}

func quoteJSON(s string) []byte {
	q, _ := json.Marshal(s)
	return q
}

// MarshalCommit implements Serializer.
func (j *jsonSerializer) MarshalCommit(headers map[string]any, events []EventMessage) ([]byte, error) {
	data, _, err := j.marshalCommit(headers, events)
	return data, err
}

func (j *jsonSerializer) marshalCommit(headers map[string]any, events []EventMessage) (_ []byte, _ bool, err error) {
	if err := checkCommit(headers, events, true); err != nil {
		return nil, false, err
	}
	defer recoverTo(&err, "encoding JSON commit")
	lossless := jsonNativeMap(headers)
	b := getJSONBuf()
	defer putJSONBuf(b)
	b.buf.WriteByte('{')
	if len(headers) > 0 {
		b.buf.WriteString(`"headers":`)
		if err := b.value(headers); err != nil {
			return nil, false, fmt.Errorf("commit headers: %w", err)
		}
		b.buf.WriteByte(',')
	}
	b.buf.WriteString(`"events":[`)
	for i := range events {
		e := &events[i]
		if i > 0 {
			b.buf.WriteByte(',')
		}
		b.buf.WriteByte('{')
		if n, ok := j.types.nameOf(e.Body); ok {
			b.buf.WriteString(`"type":`)
			b.buf.Write(n.quoted)
			b.buf.WriteByte(',')
		} else if lossless {
			lossless = jsonNative(e.Body)
		}
		if len(e.Headers) > 0 {
			lossless = lossless && jsonNativeMap(e.Headers)
			b.buf.WriteString(`"headers":`)
			if err := b.value(e.Headers); err != nil {
				return nil, false, fmt.Errorf("headers of event %d: %w", i, err)
			}
			b.buf.WriteByte(',')
		}
		b.buf.WriteString(`"body":`)
		if err := b.value(e.Body); err != nil {
			return nil, false, fmt.Errorf("body of event %d (%T): %w", i, e.Body, err)
		}
		b.buf.WriteByte('}')
	}
	b.buf.WriteString("]}")
	return bytes.Clone(b.buf.Bytes()), lossless, nil
}

type jsonCommit struct {
	Headers map[string]any `json:"headers"`
	Events  []jsonEvent    `json:"events"`
}

type jsonEvent struct {
	Type    string         `json:"type,omitempty"`
	Headers map[string]any `json:"headers,omitempty"`
	Body    rawJSON        `json:"body"`
}

// rawJSON is a JSON value left undecoded, as the very bytes of the payload
// being decoded (json.RawMessage would copy them): it is valid only while
// that payload is, which is as long as UnmarshalCommit and
// UnmarshalSnapshot use it.
type rawJSON []byte

// UnmarshalJSON keeps data, a slice of the input of json.Unmarshal.
func (r *rawJSON) UnmarshalJSON(data []byte) error {
	*r = data
	return nil
}

// UnmarshalCommit implements Serializer.
func (j *jsonSerializer) UnmarshalCommit(data []byte) (_ map[string]any, _ []EventMessage, err error) {
	defer recoverTo(&err, "decoding JSON commit")
	if headers, events, err := j.unmarshalCommitFast(data); err == nil {
		return headers, events, nil
	}
	var doc jsonCommit
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("decoding JSON commit: %w", err)
	}
	events := make([]EventMessage, len(doc.Events))
	for i, e := range doc.Events {
		body, err := j.decodeBody(e.Type, e.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("decoding body of event %d: %w", i, err)
		}
		events[i] = EventMessage{Headers: e.Headers, Body: body}
	}
	return doc.Headers, events, nil
}

// UnmarshalHeaders implements HeadersUnmarshaler: the events are skipped,
// not decoded.
func (j *jsonSerializer) UnmarshalHeaders(data []byte) (_ map[string]any, err error) {
	defer recoverTo(&err, "decoding JSON commit headers")
	if headers, err := j.unmarshalHeadersFast(data); err == nil {
		return headers, nil
	}
	var doc struct {
		Headers map[string]any  `json:"headers"`
		Events  json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decoding JSON commit: %w", err)
	}
	return doc.Headers, nil
}

func (j *jsonSerializer) decodeBody(name string, raw []byte) (any, error) {
	if t, ok := j.types.typeOf(name); ok {
		if v, ok := decodePlanned(t, raw); ok {
			return v, nil
		}
		ptr, value := newValue(t)
		if err := json.Unmarshal(raw, ptr); err != nil {
			return nil, fmt.Errorf("as %s (%v): %w", name, t, err)
		}
		return value(), nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// MarshalSnapshot implements Serializer.
func (j *jsonSerializer) MarshalSnapshot(state any) (_ []byte, err error) {
	if err := checkBody("Snapshot.Payload", state, true); err != nil {
		return nil, err
	}
	defer recoverTo(&err, "encoding JSON snapshot")
	b := getJSONBuf()
	defer putJSONBuf(b)
	b.buf.WriteByte('{')
	if n, ok := j.types.nameOf(state); ok {
		b.buf.WriteString(`"type":`)
		b.buf.Write(n.quoted)
		b.buf.WriteByte(',')
	}
	b.buf.WriteString(`"body":`)
	if err := b.value(state); err != nil {
		return nil, fmt.Errorf("snapshot state (%T): %w", state, err)
	}
	b.buf.WriteByte('}')
	return bytes.Clone(b.buf.Bytes()), nil
}

// UnmarshalSnapshot implements Serializer.
func (j *jsonSerializer) UnmarshalSnapshot(data []byte) (_ any, err error) {
	defer recoverTo(&err, "decoding JSON snapshot")
	var doc jsonEvent
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decoding JSON snapshot: %w", err)
	}
	v, err := j.decodeBody(doc.Type, doc.Body)
	if err != nil {
		return nil, fmt.Errorf("decoding snapshot state: %w", err)
	}
	return v, nil
}

// jsonNative reports whether v is exactly what encoding/json decodes into
// an any, so that a round trip gives back an equal value.
func jsonNative(v any) bool {
	switch v := v.(type) {
	case nil, bool, float64:
		return true
	case string:
		return utf8.ValidString(v)
	case []any:
		if v == nil {
			return false
		}
		for _, e := range v {
			if !jsonNative(e) {
				return false
			}
		}
		return true
	case map[string]any:
		return v != nil && jsonNativeMap(v)
	}
	return false
}

func jsonNativeMap(m map[string]any) bool {
	for k, v := range m {
		if !utf8.ValidString(k) || !jsonNative(v) {
			return false
		}
	}
	return true
}
