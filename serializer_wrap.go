package eventstore

import (
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"io"
)

// byteWrapper applies a byte transformation around another serializer.
type byteWrapper struct {
	inner Serializer
	wrap  func([]byte) ([]byte, error)
	open  func([]byte) ([]byte, error)
}

// MarshalCommit implements Serializer.
func (w *byteWrapper) MarshalCommit(headers map[string]any, events []EventMessage) ([]byte, error) {
	b, err := w.inner.MarshalCommit(headers, events)
	if err != nil {
		return nil, err
	}
	return w.wrap(b)
}

// UnmarshalCommit implements Serializer.
func (w *byteWrapper) UnmarshalCommit(data []byte) (map[string]any, []EventMessage, error) {
	b, err := w.open(data)
	if err != nil {
		return nil, nil, err
	}
	return w.inner.UnmarshalCommit(b)
}

// UnmarshalHeaders implements HeadersUnmarshaler, with the wrapped
// serializer's UnmarshalHeaders if it has one.
func (w *byteWrapper) UnmarshalHeaders(data []byte) (map[string]any, error) {
	b, err := w.open(data)
	if err != nil {
		return nil, err
	}
	return headersOf(w.inner, b)
}

// MarshalSnapshot implements Serializer.
func (w *byteWrapper) MarshalSnapshot(state any) ([]byte, error) {
	b, err := w.inner.MarshalSnapshot(state)
	if err != nil {
		return nil, err
	}
	return w.wrap(b)
}

// UnmarshalSnapshot implements Serializer.
func (w *byteWrapper) UnmarshalSnapshot(data []byte) (any, error) {
	b, err := w.open(data)
	if err != nil {
		return nil, err
	}
	return w.inner.UnmarshalSnapshot(b)
}

func (w *byteWrapper) marshalCommit(headers map[string]any, events []EventMessage) ([]byte, bool, error) {
	var b []byte
	var lossless bool
	var err error
	if m, ok := w.inner.(commitMarshaler); ok {
		b, lossless, err = m.marshalCommit(headers, events)
	} else {
		b, err = w.inner.MarshalCommit(headers, events)
	}
	if err != nil {
		return nil, false, err
	}
	b, err = w.wrap(b)
	return b, lossless, err
}

// Compress wraps s so that what it produces is gzip-compressed, as
// NEventStore's Compress() does. Worth it for large, repetitive payloads;
// it costs CPU time on every commit and read.
func Compress(s Serializer) Serializer {
	return &byteWrapper{inner: s, wrap: gzipBytes, open: gunzipBytes}
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gunzipBytes(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decompressing payload: %w", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompressing payload: %w", err)
	}
	return out, nil
}

// EncryptWith wraps s so that what it produces is encrypted and
// authenticated with AES-GCM under key, as NEventStore's EncryptWith()
// does. key must be 16, 24 or 32 bytes (AES-128, -192 or -256). Each
// payload gets a random 12-byte nonce, stored in front of it. Reading with
// a wrong key, or data that was altered, fails with an error wrapping
// ErrDecrypt; it never yields garbage.
//
// To combine with Compress, compress first: EncryptWith(Compress(s), key).
func EncryptWith(s Serializer, key []byte) (Serializer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, &ValidationError{Field: "encryption key", Value: fmt.Sprintf("%d bytes", len(key)), Reason: "must be 16, 24 or 32 bytes"}
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	seal := func(b []byte) ([]byte, error) {
		out := make([]byte, ns, ns+len(b)+aead.Overhead())
		if _, err := rand.Read(out); err != nil {
			return nil, err
		}
		return aead.Seal(out, out, b, nil), nil
	}
	open := func(b []byte) ([]byte, error) {
		if len(b) < ns+aead.Overhead() {
			return nil, fmt.Errorf("eventstore: %w (payload too short)", ErrDecrypt)
		}
		out, err := aead.Open(nil, b[:ns], b[ns:], nil)
		if err != nil {
			return nil, fmt.Errorf("eventstore: %w", ErrDecrypt)
		}
		return out, nil
	}
	return &byteWrapper{inner: s, wrap: seal, open: open}, nil
}
