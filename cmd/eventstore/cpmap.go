package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// cpMap is the checkpoint map a copy or an import writes: a JSON-lines
// file whose first line describes the copy and whose other lines pair a
// source checkpoint with the target checkpoint of the same commit, in
// source order:
//
//	{"copy":{"from":"mysql","to":"mongodb","after":0,"started":"2026-12-01T10:00:00Z"}}
//	{"source":1,"target":7}
//	{"source":2,"target":8}
//
// A consumer that saved source checkpoint S moves to the target checkpoint
// of the last line with source <= S. The last line is also where a copy
// resumes (--resume). Lines are flushed every second and at the end; after
// a crash the lines lost with the buffer are written again on resume (the
// commits are found in the target as duplicates).
type cpMap struct {
	f         *os.File
	w         *bufio.Writer
	lastFlush time.Time
	last      int64 // the last source checkpoint recorded
}

type mapHeader struct {
	Copy struct {
		From    string `json:"from"`
		To      string `json:"to"`
		After   int64  `json:"after"`
		Started string `json:"started"`
	} `json:"copy"`
}

type mapLine struct {
	Source int64 `json:"source"`
	Target int64 `json:"target"`
}

// openMap opens the map at path. Without resume the file must not exist or
// be empty; with resume, an existing map is read, a partial last line
// (a crash while writing it) is cut off, and last is its last source
// checkpoint (0 if none).
func openMap(path string, resume bool, from, to string, after int64) (*cpMap, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("checkpoint map: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	if busy, err := lockFile(f); busy {
		return nil, fmt.Errorf("checkpoint map %s is in use by another copy or import: wait for it to end, or give this one another --map", path)
	} else if err != nil {
		return nil, fmt.Errorf("checkpoint map %s: %w", path, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("checkpoint map %s: %w", path, err)
	}
	if len(data) > 0 && !resume {
		return nil, usagef("checkpoint map %s exists (an earlier copy): add --resume to continue it, or remove the file (or pick another --map) to start over", path)
	}
	m := &cpMap{lastFlush: time.Now()}
	keep := len(data)
	if i := bytes.LastIndexByte(data, '\n'); i+1 != len(data) {
		keep = i + 1 // cut a partial last line
	}
	lines := bytes.Split(data[:keep], []byte("\n"))
	for n, l := range lines {
		if len(l) == 0 {
			continue
		}
		if n == 0 {
			var h mapHeader
			if err := json.Unmarshal(l, &h); err != nil || h.Copy.Started == "" {
				return nil, fmt.Errorf("checkpoint map %s: line 1 is not a copy header: is it a checkpoint map?", path)
			}
			continue
		}
		var ml mapLine
		if err := json.Unmarshal(l, &ml); err != nil || ml.Source <= 0 {
			return nil, fmt.Errorf("checkpoint map %s: line %d is damaged (%q): fix or remove it", path, n+1, l)
		}
		m.last = ml.Source
	}
	if err := f.Truncate(int64(keep)); err != nil {
		return nil, fmt.Errorf("checkpoint map %s: %w", path, err)
	}
	if _, err := f.Seek(int64(keep), io.SeekStart); err != nil {
		return nil, err
	}
	m.f, m.w = f, bufio.NewWriterSize(f, 64<<10)
	if keep == 0 {
		var h mapHeader
		h.Copy.From, h.Copy.To, h.Copy.After, h.Copy.Started = from, to, after, time.Now().UTC().Format(time.RFC3339)
		b, _ := json.Marshal(h)
		m.w.Write(append(b, '\n'))
		if err := m.flush(); err != nil {
			return nil, err
		}
	}
	ok = true
	return m, nil
}

// add records that source checkpoint src is target checkpoint dst.
func (m *cpMap) add(src, dst int64) error {
	m.last = src
	b := fmt.Appendf(nil, `{"source":%d,"target":%d}`+"\n", src, dst)
	if _, err := m.w.Write(b); err != nil {
		return err
	}
	if time.Since(m.lastFlush) >= time.Second {
		return m.flush()
	}
	return nil
}

func (m *cpMap) flush() error {
	m.lastFlush = time.Now()
	if err := m.w.Flush(); err != nil {
		return fmt.Errorf("checkpoint map: %w", err)
	}
	return nil
}

// close flushes the map to disk and closes it.
func (m *cpMap) close() error {
	err := m.flush()
	if serr := m.f.Sync(); err == nil && serr != nil {
		err = serr
	}
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	return err
}
