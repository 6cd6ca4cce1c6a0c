package azuretables

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Azure's limits that shape the rows: a binary property holds at most
// 64 KiB, an entity at most 1 MiB, and a batch at most 100 operations and
// 4 MiB of request body, in which binary values travel as base64.
const (
	propSize     = 64000 // bytes per binary property
	inlineProps  = 3     // payload properties in a commit, log or snapshot row
	inlineMax    = inlineProps * propSize
	chunkProps   = 12 // payload properties in a chunk row: 768,000 bytes
	chunkSize    = chunkProps * propSize
	chunksPerTx  = 3          // chunk rows per batch: about 3 MiB of base64
	maxBatchOps  = 100        // operations per entity group transaction
	maxBatchBody = 4 << 20    // bytes per transaction request body
	bodyBudget   = 3500 << 10 // what the engine fills a batch up to
)

// ent builds the JSON of one entity, with the OData type annotations that
// Int64 and Binary properties need.
type ent struct{ b []byte }

func newEnt(pk, rk string) *ent {
	e := &ent{b: make([]byte, 0, 256)}
	e.b = append(e.b, `{"PartitionKey":`...)
	e.b = strconv.AppendQuote(e.b, pk)
	e.b = append(e.b, `,"RowKey":`...)
	e.b = strconv.AppendQuote(e.b, rk)
	return e
}

func (e *ent) key(k string) {
	e.b = append(e.b, ',', '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
}

func (e *ent) str(k, v string) *ent {
	e.key(k)
	if plainString(v) {
		e.b = append(e.b, '"')
		e.b = append(e.b, v...)
		e.b = append(e.b, '"')
		return e
	}
	s, _ := json.Marshal(v) // strings always marshal
	e.b = append(e.b, s...)
	return e
}

// plainString reports whether v is JSON as it stands between quotes:
// printable ASCII that encoding/json would not escape.
func plainString(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c < ' ' || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

func (e *ent) i32(k string, v int) *ent {
	e.key(k)
	e.b = strconv.AppendInt(e.b, int64(v), 10)
	return e
}

func (e *ent) i64(k string, v int64) *ent {
	e.key(k + "@odata.type")
	e.b = append(e.b, `"Edm.Int64"`...)
	e.key(k)
	e.b = append(e.b, '"')
	e.b = strconv.AppendInt(e.b, v, 10)
	e.b = append(e.b, '"')
	return e
}

func (e *ent) boolean(k string, v bool) *ent {
	e.key(k)
	e.b = strconv.AppendBool(e.b, v)
	return e
}

func (e *ent) bin(k string, v []byte) *ent {
	e.key(k + "@odata.type")
	e.b = append(e.b, `"Edm.Binary"`...)
	e.key(k)
	e.b = append(e.b, '"')
	e.b = base64.StdEncoding.AppendEncode(e.b, v)
	e.b = append(e.b, '"')
	return e
}

func (e *ent) bytes() []byte { return append(e.b, '}') }

// rowKeyOf returns the row key of entity, which newEnt began with its
// partition and row keys. It panics on JSON that newEnt did not build.
func rowKeyOf(entity []byte) string {
	const pkField, rkField = `{"PartitionKey":`, `,"RowKey":`
	s := string(entity)
	if strings.HasPrefix(s, pkField) {
		if pk, err := strconv.QuotedPrefix(s[len(pkField):]); err == nil {
			s = s[len(pkField)+len(pk):]
			if strings.HasPrefix(s, rkField) {
				if rk, err := strconv.QuotedPrefix(s[len(rkField):]); err == nil {
					if v, err := strconv.Unquote(rk); err == nil {
						return v
					}
				}
			}
		}
	}
	panic(fmt.Sprintf("azuretables: entity not built by newEnt: %.60q", entity))
}

// row is any row of the table, decoded; each kind uses some of the fields.
type row struct {
	PartitionKey string
	RowKey       string
	Timestamp    time.Time
	ETag         string `json:"odata.etag"`

	B  string // bucket ID
	S  string // stream ID
	BH string // hash of the bucket ID (log rows, for ReadBucket)
	Q  int    // commit sequence
	R  int    // stream revision (commit: of its last event; head: the head; snapshot: its revision)
	F  int    // first revision of a commit
	E  int    // event count
	I  string // commit ID
	T  int64  `json:",string"` // commit stamp, µs since the Unix epoch
	N  int64  `json:",string"` // checkpoint (commit, commit-ID and decision rows)
	K  string // log row: the nonce of the batch that wrote it
	D  string // log row: cached decision, "c" or "a"
	W  bool   // log row: dispatched (or dead)
	X  bool   // log row: tombstone, the commit was deleted
	O  string // decision row: "c" committed, "a" aborted
	SR int    // head: revision of the latest snapshot
	Z  int    // payload length
	C  string // payload chunk partition, when the payload is not inline
	CN int    // number of chunk rows

	P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11 []byte
}

func (r *row) props() [][]byte {
	return [][]byte{r.P0, r.P1, r.P2, r.P3, r.P4, r.P5, r.P6, r.P7, r.P8, r.P9, r.P10, r.P11}
}

var propNames = [chunkProps]string{"P0", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "P11"}

// inline returns the payload stored in the row's properties, or false if
// it lives in chunk rows.
func (r *row) inline() ([]byte, bool) {
	if r.C != "" {
		return nil, false
	}
	p := make([]byte, 0, r.Z)
	for _, b := range r.props() {
		p = append(p, b...)
	}
	return p, true
}

// payloadRef says where a payload lives: inline, or in CN chunk rows of
// partition "b"+C.
type payloadRef struct {
	data []byte // the payload
	c    string // chunk partition nonce; "" when inline
	cn   int
}

// put writes the payload's properties to e: the bytes when inline, else
// the chunk reference.
func (p *payloadRef) put(e *ent) {
	e.i32("Z", len(p.data))
	if p.c != "" {
		e.str("C", p.c).i32("CN", p.cn)
		return
	}
	for i := 0; i*propSize < len(p.data); i++ {
		end := min((i+1)*propSize, len(p.data))
		e.bin(propNames[i], p.data[i*propSize:end])
	}
}

// putChunk writes chunk part of data to e.
func putChunk(e *ent, part []byte) {
	for i := 0; i*propSize < len(part); i++ {
		end := min((i+1)*propSize, len(part))
		e.bin(propNames[i], part[i*propSize:end])
	}
}

func decodeRow(b []byte) (*row, error) {
	r := new(row)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, err
	}
	return r, nil
}
