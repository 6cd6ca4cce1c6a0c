package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/goeventstore/eventstore"
)

// newSerializer builds the serializer the global flags describe: JSON or
// gob, compressed, encrypted, in Wireup's order (compress, then encrypt).
func (a *app) newSerializer() (eventstore.Serializer, error) {
	var s eventstore.Serializer
	switch a.serializer {
	case "gob":
		s = eventstore.NewGobSerializer(nil)
	default:
		s = eventstore.NewJSONSerializer(nil)
	}
	return a.wrapSerializer(s)
}

// wrapSerializer wraps s, a JSON or gob serializer, in the compression and
// encryption the global flags ask for.
func (a *app) wrapSerializer(s eventstore.Serializer) (eventstore.Serializer, error) {
	if a.compress {
		s = eventstore.Compress(s)
	}
	key, err := a.key()
	if err != nil {
		return nil, err
	}
	if key != nil {
		if s, err = eventstore.EncryptWith(s, key); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// key reads the encryption key from --key-file, else $EVENTSTORE_KEY_FILE,
// else $EVENTSTORE_KEY; nil if none is given. A key is 16, 24 or 32 bytes,
// given raw (files only), in hex or in base64.
func (a *app) key() ([]byte, error) {
	file, from := a.keyFile, "--key-file"
	if file == "" {
		file, from = a.getenv("EVENTSTORE_KEY_FILE"), "EVENTSTORE_KEY_FILE"
	}
	if file != "" {
		b, err := os.ReadFile(a.path(file))
		if err != nil {
			return nil, usagef("%s: %v", from, err)
		}
		k, err := parseKey(b, true)
		if err != nil {
			return nil, usagef("%s %s: %v", from, file, err)
		}
		return k, nil
	}
	if v := a.getenv("EVENTSTORE_KEY"); v != "" {
		k, err := parseKey([]byte(v), false)
		if err != nil {
			return nil, usagef("EVENTSTORE_KEY: %v", err)
		}
		return k, nil
	}
	return nil, nil
}

func validKeyLen(n int) bool { return n == 16 || n == 24 || n == 32 }

func parseKey(b []byte, raw bool) ([]byte, error) {
	t := bytes.TrimSpace(b)
	if k, err := hex.DecodeString(string(t)); err == nil && validKeyLen(len(k)) {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(string(t)); err == nil && validKeyLen(len(k)) {
			return k, nil
		}
	}
	if raw && validKeyLen(len(b)) {
		return b, nil
	}
	return nil, fmt.Errorf("not an AES key: want 16, 24 or 32 bytes in hex or base64%s", map[bool]string{true: " (or raw)"}[raw])
}
