package snowflake

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// body is a request body read whole: the bytes as sent and, decompressed, the JSON.
type body struct {
	raw  []byte // as sent
	json []byte // decompressed (raw itself when not compressed)
	gzip bool
}

// errTooLarge is a body past Config.MaxBodySize.
var errTooLarge = errors.New("request body too large")

// readBody reads r's body (at most limit bytes, also decompressed). Bodies are gzip (snowflake-connector-python
// compresses every POST) or plain (gosnowflake); any other Content-Encoding is an error, since the text inside
// could not be decided.
func readBody(r *http.Request, limit int64) (body, error) {
	var b body
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return b, fmt.Errorf("read request body: %w", err)
	}
	if int64(len(raw)) > limit {
		return b, errTooLarge
	}
	b.raw, b.json = raw, raw
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		b.gzip = true
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return b, fmt.Errorf("gunzip request body: %w", err)
		}
		b.json, err = io.ReadAll(io.LimitReader(zr, limit+1))
		if err != nil {
			return b, fmt.Errorf("gunzip request body: %w", err)
		}
		if int64(len(b.json)) > limit {
			return b, errTooLarge
		}
	default:
		return b, fmt.Errorf("request body has Content-Encoding %q; deferproxy reads gzip or plain JSON", enc)
	}
	return b, nil
}

// encode returns the bytes to send for a changed JSON body: compressed again when the client had compressed it.
func (b body) encode(js []byte) []byte {
	if !b.gzip {
		return js
	}
	var buf bytes.Buffer
	buf.Grow(len(js)/4 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write(js) // a bytes.Buffer does not fail
	_ = zw.Close()
	gzipWriters.Put(zw)
	return buf.Bytes()
}

// gzipWriters keeps compressors between requests: each holds ~800 KB of state that would otherwise be allocated
// per rewritten request.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// setBody makes p the body of r with a Content-Length that says so.
func setBody(r *http.Request, p []byte) {
	r.Body = io.NopCloser(bytes.NewReader(p))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(p)), nil }
	r.ContentLength = int64(len(p))
	r.Header.Set("Content-Length", strconv.Itoa(len(p)))
}

// field is one top-level member of a JSON object: where its value's bytes are.
type field struct {
	start, end int
}

// stringField finds the top-level member key of the JSON object js and decodes its string value. found is false
// when the member is absent or null; a member present twice, or a value that is neither a string nor null, is an
// error: the upstream might read another value than deferproxy decided.
func stringField(js []byte, key string) (val string, at field, found bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	tok, err := dec.Token()
	if err != nil {
		return "", at, false, fmt.Errorf("request body is not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return "", at, false, errors.New("request body is not a JSON object")
	}
	seen := false
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return "", at, false, fmt.Errorf("request body is not JSON: %w", err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", at, false, fmt.Errorf("request body is not JSON: %w", err)
		}
		if kt.(string) != key {
			continue
		}
		if seen {
			return "", at, false, fmt.Errorf("request body has %q twice", key)
		}
		seen = true
		end := int(dec.InputOffset())
		at = field{start: end - len(raw), end: end}
		if string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, &val); err != nil {
			return "", at, false, fmt.Errorf("request body's %q is not a string", key)
		}
		found = true
	}
	if _, err := dec.Token(); err != nil {
		return "", at, false, fmt.Errorf("request body is not JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", at, false, errors.New("request body is not JSON: data after the object")
	}
	return val, at, found, nil
}

// withString returns js with the value at f replaced by the JSON string s; every other byte is kept.
func withString(js []byte, f field, s string) []byte {
	var buf bytes.Buffer
	buf.Grow(len(js) - (f.end - f.start) + len(s) + 16)
	buf.Write(js[:f.start])
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode's newline
	buf.Write(js[f.end:])
	return buf.Bytes()
}
