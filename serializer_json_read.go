package eventstore

import (
	"encoding/json"
	"errors"
)

// Reading a JSON commit in one pass
//
// encoding/json reads a document twice (once to validate it, once to
// decode), and a body left as raw JSON inside the envelope is scanned a
// third time to find its end before it is decoded, twice again, into its
// type. Reading a commit that way costs about twice what decoding its
// bodies alone does. So the envelope a commit is written as (see
// NewJSONSerializer) is walked by a small scanner that only finds where
// each part begins and ends, and encoding/json decodes just the parts:
// each header map and each body, straight into its registered type.
//
// The scanner takes only what MarshalCommit writes: an object with the
// keys "headers" and "events", each event an object with "type",
// "headers" and "body", keys written plainly, each at most once. Anything
// else (another key, an escape in a key or a type name, a null where an
// array is due) sends the payload to encoding/json's own reading of the
// whole document, and so does any error, so that what a payload decodes
// to, or the error it gives, is the same either way.

// errUnusual is what the scanner says of input it leaves to encoding/json.
var errUnusual = errors.New("unusual envelope")

// envelope is the scanner's position in a payload.
type envelope struct {
	data  []byte
	i     int
	arena []byte // where the strings of the bodies read so far keep their bytes (see str)
}

// ws skips white space.
func (s *envelope) ws() {
	for s.i < len(s.data) && s.data[s.i] <= ' ' { // compact JSON: a single compare
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and consumes c if it comes next.
func (s *envelope) next(c byte) bool {
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

// key reads an object key and its colon, and returns the key (a slice of
// the input); escaped keys are unusual.
func (s *envelope) key() ([]byte, error) {
	if !s.next('"') {
		return nil, errUnusual
	}
	start := s.i
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case '\\':
			return nil, errUnusual
		case '"':
			k := s.data[start:s.i]
			s.i++
			if !s.next(':') {
				return nil, errUnusual
			}
			return k, nil
		}
		s.i++
	}
	return nil, errUnusual
}

// value returns the bytes of the JSON value that starts here, found by
// counting brackets outside strings. It does not check the value: the
// decoder it goes to does.
func (s *envelope) value() ([]byte, error) {
	s.ws()
	start, depth := s.i, 0
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case '"':
			for s.i++; s.i < len(s.data) && s.data[s.i] != '"'; s.i++ {
				if s.data[s.i] == '\\' {
					s.i++
				}
			}
			if s.i >= len(s.data) {
				return nil, errUnusual
			}
			if depth == 0 {
				s.i++
				return s.data[start:s.i], nil
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 { // closes what holds a number or literal
				return s.end(start)
			}
			if depth--; depth == 0 {
				s.i++
				return s.data[start:s.i], nil
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return s.end(start)
			}
		}
		s.i++
	}
	if depth != 0 {
		return nil, errUnusual
	}
	return s.end(start)
}

func (s *envelope) end(start int) ([]byte, error) {
	if s.i == start {
		return nil, errUnusual
	}
	return s.data[start:s.i], nil
}

// unmarshalCommitFast is UnmarshalCommit for the envelope MarshalCommit
// writes; errUnusual, or any other error, means "read it the long way".
func (j *jsonSerializer) unmarshalCommitFast(data []byte) (map[string]any, []EventMessage, error) {
	return j.readEnvelope(data, true)
}

// unmarshalHeadersFast is UnmarshalHeaders for the envelope MarshalCommit
// writes: it finds the end of the events without decoding them.
func (j *jsonSerializer) unmarshalHeadersFast(data []byte) (map[string]any, error) {
	headers, _, err := j.readEnvelope(data, false)
	return headers, err
}

// readEnvelope reads the envelope MarshalCommit writes, and decodes its
// events only if decodeEvents.
func (j *jsonSerializer) readEnvelope(data []byte, decodeEvents bool) (map[string]any, []EventMessage, error) {
	s := envelope{data: data}
	if !s.next('{') {
		return nil, nil, errUnusual
	}
	var headers map[string]any
	var events []EventMessage
	seenHeaders, seenEvents := false, false
	for !s.next('}') {
		if (seenHeaders || seenEvents) && !s.next(',') {
			return nil, nil, errUnusual
		}
		k, err := s.key()
		if err != nil {
			return nil, nil, err
		}
		switch {
		case string(k) == "headers" && !seenHeaders:
			seenHeaders = true
			if headers, err = j.headersAt(&s); err != nil {
				return nil, nil, err
			}
		case string(k) == "events" && !seenEvents:
			seenEvents = true
			if decodeEvents {
				events, err = j.eventsAt(&s)
			} else if raw, e := s.value(); e != nil || raw[0] != '[' {
				err = errUnusual
			}
			if err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, errUnusual
		}
	}
	if s.ws(); s.i != len(data) || !seenEvents {
		return nil, nil, errUnusual
	}
	return headers, events, nil
}

// headersAt decodes the header map that starts here.
func (j *jsonSerializer) headersAt(s *envelope) (map[string]any, error) {
	raw, err := s.value()
	if err != nil || raw[0] != '{' {
		return nil, errUnusual
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, err
	}
	return h, nil
}

// eventsAt decodes the array of events that starts here.
func (j *jsonSerializer) eventsAt(s *envelope) ([]EventMessage, error) {
	if !s.next('[') {
		return nil, errUnusual
	}
	events := make([]EventMessage, 0, 1)
	for !s.next(']') {
		if len(events) > 0 && !s.next(',') {
			return nil, errUnusual
		}
		e, err := j.eventAt(s, len(events))
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, nil
}

// eventAt decodes the event object that starts here.
func (j *jsonSerializer) eventAt(s *envelope, i int) (EventMessage, error) {
	if !s.next('{') {
		return EventMessage{}, errUnusual
	}
	var e EventMessage
	var typeName, body []byte
	seenType, seenHeaders := false, false
	for !s.next('}') {
		if seenType || seenHeaders || body != nil {
			if !s.next(',') {
				return EventMessage{}, errUnusual
			}
		}
		k, err := s.key()
		if err != nil {
			return EventMessage{}, err
		}
		switch {
		case string(k) == "type" && !seenType:
			seenType = true
			if typeName, err = s.value(); err != nil || len(typeName) < 2 || typeName[0] != '"' {
				return EventMessage{}, errUnusual
			}
			typeName = typeName[1 : len(typeName)-1]
			for _, c := range typeName { // plain ASCII only; the rest is unusual
				if c < 0x20 || c >= 0x80 || c == '\\' {
					return EventMessage{}, errUnusual
				}
			}
		case string(k) == "headers" && !seenHeaders:
			seenHeaders = true
			if e.Headers, err = j.headersAt(s); err != nil {
				return EventMessage{}, err
			}
		case string(k) == "body" && body == nil:
			if seenType {
				if v, ok := j.bodyAt(s, typeName); ok {
					e.Body, body = v, s.data[:0] // decoded in place
					continue
				}
			}
			if body, err = s.value(); err != nil {
				return EventMessage{}, err
			}
		default:
			return EventMessage{}, errUnusual
		}
	}
	if body == nil {
		return EventMessage{}, errUnusual
	}
	if e.Body != nil {
		return e, nil
	}
	v, err := j.decodeBody(string(typeName), body)
	if err != nil {
		return EventMessage{}, err
	}
	e.Body = v
	return e, nil
}
