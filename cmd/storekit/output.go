package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/cledar/storekit/codec"
)

// A record is one line of -o json output: a key, a value, an event or a
// version. Empty fields are left out.
type record struct {
	Time        string          `json:"time,omitempty"`
	Op          string          `json:"op,omitempty"`
	Key         *string         `json:"key,omitempty"`
	KeyEncoding string          `json:"key_encoding,omitempty"`
	Version     int64           `json:"version,omitempty"`
	Value       *string         `json:"value,omitempty"`
	Encoding    string          `json:"encoding,omitempty"`
	JSON        json.RawMessage `json:"json,omitempty"`
	TTLMillis   *int64          `json:"ttl_ms,omitempty"`
	Error       string          `json:"error,omitempty"`
}

// withKey sets the record's key: as text when it is UTF-8, else as base64
// with key_encoding saying so.
func (r *record) withKey(key string) *record {
	text, enc := encodeBytes([]byte(key))
	r.Key = &text
	if enc != "utf8" {
		r.KeyEncoding = enc
	}
	return r
}

// withValue sets the record's value and its encoding: utf8 or base64.
func (r *record) withValue(b []byte) *record {
	text, enc := encodeBytes(b)
	r.Value, r.Encoding = &text, enc
	return r
}

// encodeBytes returns b as text, and "utf8", when it is valid UTF-8; else
// as standard base64, and "base64".
func encodeBytes(b []byte) (string, string) {
	if utf8.Valid(b) {
		return string(b), "utf8"
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

// writeJSON writes v as one line of JSON, without escaping HTML characters.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printable returns s as it is when it prints as one line of plain text,
// else quoted as Go quotes strings: a key with a newline or invalid UTF-8
// stays on its line and shows what it holds.
func printable(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// pythonJSON reads values as the Python services write them: JSON with
// NaN and Infinity, numbers kept as their text.
var pythonJSON = codec.JSON[any](nil)

// errNotJSON marks a value that -decode cannot read.
var errNotJSON = errors.New("not JSON")

// decodeJSON reads data with the codec of the Python services and returns
// it as JSON, indented for people or compact for -o json.
func decodeJSON(data []byte, indent bool) ([]byte, error) {
	v, err := pythonJSON.Decode(data)
	if err != nil {
		return nil, withFix(fmt.Errorf("the value is %w: %v", errNotJSON, err), "read it without -decode")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		// NaN or Infinity, which Python writes and JSON cannot hold.
		if indent {
			return data, nil
		}
		return nil, withFix(fmt.Errorf("the value holds NaN or Infinity, which JSON lines cannot carry"), "read it without -decode")
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
