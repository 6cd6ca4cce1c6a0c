package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goeventstore/eventstore"
)

// Header names every message carries (see Message.Headers).
const (
	HeaderCommitID       = "Eventstore-Commit-Id"
	HeaderBucket         = "Eventstore-Bucket"
	HeaderStream         = "Eventstore-Stream"
	HeaderCommitSequence = "Eventstore-Commit-Sequence"
	HeaderStreamRevision = "Eventstore-Stream-Revision"
	HeaderCheckpoint     = "Eventstore-Checkpoint"
	HeaderCommitStamp    = "Eventstore-Commit-Stamp" // RFC 3339, UTC, microseconds
	HeaderEventTypes     = "Eventstore-Event-Types"  // the events' type names, comma-separated, in order
	HeaderEventIndex     = "Eventstore-Event-Index"  // per-event messages only: the event's place in its commit, from 1
	HeaderEventCount     = "Eventstore-Event-Count"  // per-event messages only: the number of events of the commit
	HeaderContentType    = "Content-Type"            // application/json
)

// The CloudEvents attributes a message carries with Options.CloudEvents, as
// headers in the binary content mode (the HTTP and NATS spelling; the Kafka
// publisher writes them with a "ce_" prefix as Kafka's binding says).
const (
	HeaderCESpecVersion = "ce-specversion" // "1.0"
	HeaderCEID          = "ce-id"          // the commit ID
	HeaderCESource      = "ce-source"      // Options.Source + "/" + bucket
	HeaderCEType        = "ce-type"        // "eventstore.commit"
	HeaderCESubject     = "ce-subject"     // the stream ID
	HeaderCETime        = "ce-time"        // the commit stamp
)

// Message is one commit as it goes to a broker. Publishers map it onto
// their broker's message: ID to the broker's deduplication key (NATS
// Nats-Msg-Id), Key to the partition or ordering key (Kafka record key),
// Topic to the subject or topic, Headers to headers, Body to the payload.
type Message struct {
	// ID is the commit ID (its canonical UUID form): consumers and brokers
	// dedupe on it.
	ID string
	// Topic is the subject or topic, chosen by Options.Topic.
	Topic string
	// Key is the ordering key: bucket and stream, so that a stream's commits
	// stay in one partition, in order. It is BucketID + "/" + StreamID.
	Key string
	// Headers are the Header* names above with the commit's coordinates.
	Headers map[string]string
	// Body is the commit as documented JSON (see Body), never the store's
	// own bytes (which may be gob, compressed or encrypted).
	Body []byte
	// Checkpoint is the commit's checkpoint (also in the headers).
	Checkpoint int64
}

// Body is the JSON document a message carries: the commit, decoded.
//
//	{"bucket":"default","stream":"order-1","commitId":"0193...","commitSequence":2,
//	 "streamRevision":3,"checkpoint":42,"commitStamp":"2026-12-01T10:00:00.123456Z",
//	 "headers":{...},"events":[{"type":"OrderShipped","headers":{...},"body":{...}}]}
//
// Event bodies are encoded with encoding/json as the Go values the store
// read (registered types as themselves).
type Body struct {
	Bucket         string         `json:"bucket"`
	Stream         string         `json:"stream"`
	CommitID       string         `json:"commitId"`
	CommitSequence int            `json:"commitSequence"`
	StreamRevision int            `json:"streamRevision"`
	Checkpoint     int64          `json:"checkpoint"`
	CommitStamp    time.Time      `json:"commitStamp"`
	Headers        map[string]any `json:"headers,omitempty"`
	Events         []BodyEvent    `json:"events"`
	// EventIndex is set in per-event messages (Options.PerEvent): Events
	// then holds the one event at this place of the commit (from 1), and
	// StreamRevision is that event's revision.
	EventIndex int `json:"eventIndex,omitempty"`
	// EventCount is the number of events of the commit, in per-event
	// messages.
	EventCount int `json:"eventCount,omitempty"`
}

// BodyEvent is one event of a Body.
type BodyEvent struct {
	Type    string          `json:"type"`
	Headers map[string]any  `json:"headers,omitempty"`
	Body    json.RawMessage `json:"body"`
}

// EncodeError reports a commit that cannot be turned into a message (an
// event body encoding/json refuses). The relay stops on it: it never skips a
// commit.
type EncodeError struct {
	Commit eventstore.Commit
	Err    error
}

// Error names the commit and the cause.
func (e *EncodeError) Error() string {
	return fmt.Sprintf("relay: cannot encode commit at checkpoint %d (bucket %q stream %q commit %s): %v",
		e.Commit.Checkpoint, e.Commit.BucketID, e.Commit.StreamID, e.Commit.CommitID, e.Err)
}

// Unwrap returns the cause.
func (e *EncodeError) Unwrap() error { return e.Err }

// TypeName is the default Options.TypeName: the Go type's name without its
// package ("OrderPlaced" for a main.OrderPlaced or a *main.OrderPlaced),
// the JSON kind for the generic values JSON decoding gives ("object",
// "array", "string", "number", "bool", "null").
func TypeName(body any) string {
	switch body.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	t := reflect.TypeOf(body)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n := t.Name(); n != "" {
		return n
	}
	return t.String()
}

// Encode turns c into its message under opts (only Topic, TypeName,
// CloudEvents and Source are used).
func Encode(c *eventstore.Commit, opts *Options) (Message, error) {
	typeName, topic := opts.TypeName, opts.Topic
	if typeName == nil {
		typeName = TypeName
	}
	b := Body{
		Bucket: c.BucketID, Stream: c.StreamID, CommitID: c.CommitID.String(),
		CommitSequence: c.CommitSequence, StreamRevision: c.StreamRevision, Checkpoint: c.Checkpoint,
		CommitStamp: c.CommitStamp.UTC(), Headers: c.Headers, Events: make([]BodyEvent, len(c.Events)),
	}
	types := make([]string, len(c.Events))
	for i, ev := range c.Events {
		raw, err := json.Marshal(ev.Body)
		if err != nil {
			return Message{}, &EncodeError{Commit: *c, Err: fmt.Errorf("event %d body: %w", i, err)}
		}
		types[i] = typeName(ev.Body)
		b.Events[i] = BodyEvent{Type: types[i], Headers: ev.Headers, Body: raw}
	}
	body, err := json.Marshal(&b)
	if err != nil {
		return Message{}, &EncodeError{Commit: *c, Err: err}
	}
	stamp := c.CommitStamp.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	m := Message{
		ID:         b.CommitID,
		Key:        c.BucketID + "/" + c.StreamID,
		Body:       body,
		Checkpoint: c.Checkpoint,
		Headers: map[string]string{
			HeaderCommitID:       b.CommitID,
			HeaderBucket:         c.BucketID,
			HeaderStream:         c.StreamID,
			HeaderCommitSequence: strconv.Itoa(c.CommitSequence),
			HeaderStreamRevision: strconv.Itoa(c.StreamRevision),
			HeaderCheckpoint:     strconv.FormatInt(c.Checkpoint, 10),
			HeaderCommitStamp:    stamp,
			HeaderEventTypes:     strings.Join(types, ","),
			HeaderContentType:    "application/json",
		},
	}
	if topic != nil {
		m.Topic = topic(c)
	} else {
		m.Topic = DefaultTopic
	}
	if opts.CloudEvents {
		src := opts.Source
		if src == "" {
			src = "eventstore"
		}
		m.Headers[HeaderCESpecVersion] = "1.0"
		m.Headers[HeaderCEID] = b.CommitID
		m.Headers[HeaderCESource] = src + "/" + c.BucketID
		m.Headers[HeaderCEType] = "eventstore.commit"
		m.Headers[HeaderCESubject] = c.StreamID
		m.Headers[HeaderCETime] = stamp
	}
	return m, nil
}

// EncodeEvents turns c into one message per event (Options.PerEvent): the
// message of event i (from 1) has ID commit ID + "/" + i, the headers of
// Encode plus HeaderEventIndex and HeaderEventCount, HeaderStreamRevision
// and HeaderEventTypes of that event, and a Body holding that event only.
func EncodeEvents(c *eventstore.Commit, opts *Options) ([]Message, error) {
	msgs := make([]Message, len(c.Events))
	for i := range c.Events {
		one := *c
		one.Events = c.Events[i : i+1]
		one.StreamRevision = c.FirstRevision() + i
		m, err := Encode(&one, opts)
		if err != nil {
			var ee *EncodeError
			if errors.As(err, &ee) {
				ee.Commit = *c
				ee.Err = fmt.Errorf("event %d: %w", i, ee.Err)
			}
			return nil, err
		}
		var b Body
		if err := json.Unmarshal(m.Body, &b); err != nil {
			return nil, &EncodeError{Commit: *c, Err: err}
		}
		b.EventIndex, b.EventCount = i+1, len(c.Events)
		if m.Body, err = json.Marshal(&b); err != nil {
			return nil, &EncodeError{Commit: *c, Err: err}
		}
		m.ID = m.ID + "/" + strconv.Itoa(i+1)
		m.Headers[HeaderEventIndex] = strconv.Itoa(i + 1)
		m.Headers[HeaderEventCount] = strconv.Itoa(len(c.Events))
		if opts.CloudEvents {
			m.Headers[HeaderCEID] = m.ID
		}
		if opts.Topic != nil {
			m.Topic = opts.Topic(c) // the whole commit, as in per-commit mode
		}
		msgs[i] = m
	}
	return msgs, nil
}

// DefaultTopic is the topic (subject) of every message when Options.Topic
// is nil.
const DefaultTopic = "eventstore.commits"

// ByBucket returns an Options.Topic that sends each bucket's commits to
// prefix + "." + the bucket ID, with every character other than ASCII
// letters, digits, '-' and '_' replaced by '_' (so that it is one NATS
// subject token and a valid Kafka topic name). Distinct buckets may then
// share a topic; consumers read the bucket header.
func ByBucket(prefix string) func(c *eventstore.Commit) string {
	return func(c *eventstore.Commit) string { return prefix + "." + token(c.BucketID) }
}

// ByEventType returns an Options.Topic that sends each commit to prefix +
// "." + the type name of its first event (typeName: nil for TypeName),
// sanitized as ByBucket does. A commit goes to one topic whatever its other
// events.
func ByEventType(prefix string, typeName func(body any) string) func(c *eventstore.Commit) string {
	if typeName == nil {
		typeName = TypeName
	}
	return func(c *eventstore.Commit) string {
		if len(c.Events) == 0 {
			return prefix
		}
		return prefix + "." + token(typeName(c.Events[0].Body))
	}
}

// token replaces every character other than ASCII letters, digits, '-'
// and '_' with '_'.
func token(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, s)
}

// CheckpointOf returns the checkpoint to resume after, given the headers of
// the last message a broker holds (for publishers that are Resumers): its
// checkpoint header, or the checkpoint before it if the message is a
// per-event message that is not its commit's last event (the commit is then
// published again, whole).
func CheckpointOf(headers func(string) string) (int64, error) {
	v := headers(HeaderCheckpoint)
	cp, err := strconv.ParseInt(v, 10, 64)
	if err != nil || cp <= 0 {
		return 0, fmt.Errorf("relay: the broker's last message has %s %q, want a checkpoint: was it published by a relay?", HeaderCheckpoint, v)
	}
	if i, n := headers(HeaderEventIndex), headers(HeaderEventCount); i != "" && i != n {
		return cp - 1, nil
	}
	return cp, nil
}
