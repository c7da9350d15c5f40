package conformance

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/cledar/storekit/kv"
)

// maxErrorText bounds the text of an error about a long key.
const maxErrorText = 1024

var basicCases = []testCase{
	{
		name: "Basic/GetMissing",
		rule: "Get of a missing key returns an error wrapping kv.ErrNotFound",
		run: func(h *harness) {
			h.wantMissing(h.missingKey("k"), "of a key never written")
		},
	},
	{
		name: "Basic/LongKeyError",
		rule: "an error's text quotes at most a few hundred bytes of a key, however long the key",
		run: func(h *harness) {
			k := h.missingKey("long:" + strings.Repeat("k", 1<<20))
			_, err := h.s.Get(h.ctx, k)
			if h.wantErr(err, kv.ErrNotFound, "Get of a missing key of %d bytes", len(k)) && len(err.Error()) > maxErrorText {
				h.errorf("Get of a missing key of %d bytes: the error's text is %d bytes long, more than %d: %.200s...",
					len(k), len(err.Error()), maxErrorText, err)
			}
		},
	},
	{
		name: "Basic/SetGet",
		rule: "Set then Get returns the value",
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("value"))
			h.wantValue(k, []byte("value"), "after Set")
		},
	},
	{
		name: "Basic/Overwrite",
		rule: "a second Set replaces the value",
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("first value, longer"))
			h.set(k, []byte("second"))
			h.wantValue(k, []byte("second"), "after a second Set")
		},
	},
	{
		name: "Basic/Delete",
		rule: "Delete reports true when it removed a key and false when the key was missing",
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("v"))
			h.wantDelete(k, true, "of an existing key")
			h.wantDelete(k, false, "of a key already deleted")
			h.wantDelete(h.missingKey("k"), false, "of a key never written")
		},
	},
	{
		name: "Basic/GetAfterDelete",
		rule: "after Delete, Get reports kv.ErrNotFound",
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("v"))
			h.del(k)
			h.wantMissing(k, "after Delete")
		},
	},
	{
		name: "Basic/CopyIn",
		rule: "Set stores a copy: changing the slice passed to Set never changes what the store holds",
		run: func(h *harness) {
			k := h.key("k")
			v := []byte("original")
			h.set(k, v)
			copy(v, "XXXXXXXX")
			h.wantValue(k, []byte("original"), "after changing the slice passed to Set")
		},
	},
	{
		name: "Basic/CopyOut",
		rule: "Get returns a copy: changing the returned slice never changes what the store holds",
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("original"))
			got, err := h.s.Get(h.ctx, k)
			h.must(err, "Get(%q)", k)
			copy(got, "XXXXXXXX")
			h.wantValue(k, []byte("original"), "after changing the slice an earlier Get returned")
		},
	},
}

// wantDelete checks what Delete(key) reports.
func (h *harness) wantDelete(key string, want bool, what string) {
	h.t.Helper()
	got, err := h.s.Delete(h.ctx, key)
	if err != nil {
		h.errorf("Delete(%q) %s: got err %v, want %v, nil", key, what, err, want)
	} else if got != want {
		h.errorf("Delete(%q) %s = %v, want %v", key, what, got, want)
	}
}

// binaryKeys are key suffixes with bytes that a careless backend mangles.
// Pairs that differ only after a NUL catch keys truncated at NUL.
var binaryKeys = []string{
	"nul\x00a",
	"nul\x00b",
	"nul",
	"\x00",
	"bad-utf8-\xff\xfe\xc3\x28",
	"with space",
	"new\nline\r\n",
	"tab\tand\x7fdel",
	"glob*?[a-z]\\{x}^!-",
	"unicode-é-日本",
}

// binaryValues are values with bytes that a careless backend mangles.
func binaryValues() map[string][]byte {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	return map[string][]byte{
		"empty":      {},
		"nul":        {0},
		"nuls":       []byte("a\x00b\x00\x00c"),
		"trailing":   []byte("abc\x00"),
		"bad-utf8":   []byte("\xff\xfe\xc3\x28"),
		"all-bytes":  all,
		"crlf":       []byte("line\r\nline\n"),
		"whitespace": []byte("  "),
	}
}

// largeValue returns n pseudo-random bytes.
func largeValue(n int) []byte {
	r := rand.New(rand.NewPCG(8, 1))
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(r.Uint32())
	}
	return v
}

var binaryCases = []testCase{
	{
		name: "Binary/Keys",
		rule: "keys may hold NUL, invalid UTF-8, spaces, newlines and glob characters, and are kept byte for byte",
		run: func(h *harness) {
			keys := h.keysFor(binaryKeys...)
			for i, k := range keys {
				h.set(k, []byte("value of "+binaryKeys[i]))
			}
			for i, k := range keys {
				h.wantValue(k, []byte("value of "+binaryKeys[i]), "after Set of distinct binary keys")
			}
			h.wantMissing(h.prefix+"nul\x00", "with only some keys beginning with it written")
			for _, k := range keys {
				h.wantDelete(k, true, "of a binary key")
			}
		},
	},
	{
		name: "Binary/EmptyKey",
		rule: "the empty key is a key like any other",
		run:  runEmptyKey,
	},
	{
		name: "Binary/Values",
		rule: "values may be empty or hold any bytes; an empty value is found (no error), not kv.ErrNotFound",
		run: func(h *harness) {
			vals := binaryValues()
			for name, v := range vals {
				h.set(h.key(name), v)
			}
			for name, want := range vals {
				k := h.key(name)
				got, err := h.s.Get(h.ctx, k)
				switch {
				case err != nil:
					h.errorf("Get(%q): got err %v, want %s", k, err, show(want))
				case len(want) == 0 && got == nil:
					h.errorf("Get(%q) of an empty value: got a nil slice, want a non-nil empty value", k)
				case !bytes.Equal(got, want):
					h.errorf("Get(%q): %s", k, diff(got, want))
				}
			}
		},
	},
	{
		name: "Binary/LargeValue",
		rule: "a value of at least 8 MiB is stored and returned intact",
		run: func(h *harness) {
			k := h.key("large")
			v := largeValue(h.cfg.largeValue)
			h.set(k, v)
			h.wantValue(k, v, fmt.Sprintf("of a value of %d bytes", len(v)))
		},
	},
}

// runEmptyKey checks the empty key. It is the one key outside the case
// prefix, so two runs sharing a server may touch it at once: each check is
// tried a few times and passes when one attempt saw no interference.
func runEmptyKey(h *harness) {
	h.track("")
	want := []byte("conformance " + h.prefix)
	var problem string
	for attempt := 0; attempt < 5; attempt++ {
		problem = emptyKeyRoundTrip(h, want)
		if problem == "" {
			return
		}
		h.t.Logf("empty key, attempt %d: %s", attempt+1, problem)
	}
	h.errorf("%s", problem)
}

// emptyKeyRoundTrip sets, reads and deletes the empty key, returning what went
// wrong or "".
func emptyKeyRoundTrip(h *harness, want []byte) string {
	if err := h.s.Set(h.ctx, "", want); err != nil {
		return "Set(\"\"): " + err.Error()
	}
	got, err := h.s.Get(h.ctx, "")
	if err != nil {
		return "Get(\"\") after Set: got err " + err.Error()
	}
	if !bytes.Equal(got, want) {
		if bytes.HasPrefix(got, []byte("conformance ")) {
			return "Get(\"\") after Set: " + diff(got, want) + " (another run may share the server)"
		}
		return "Get(\"\") after Set: " + diff(got, want)
	}
	removed, err := h.s.Delete(h.ctx, "")
	if err != nil || !removed {
		return fmt.Sprintf("Delete(\"\") after Set = %v, %v; want true, nil", removed, err)
	}
	return ""
}
