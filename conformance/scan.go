package conformance

import (
	"fmt"

	"github.com/cledar/storekit/kv"
)

// globKeys are key suffixes for the pattern cases: words for '?', '*' and
// sets, single bytes for sets and ranges, and keys holding glob characters.
var globKeys = []string{
	"hello", "hallo", "hxllo", "hllo", "heeello", "h-llo",
	"a", "b", "c", "d", "x", "-", "^", "]",
	"ab", "abc", "aXb", "a*b", "a?b", "a\\b", "a[b]c", "abc]",
	"[x]", "*", "?", "\\",
}

// globPatterns are glob suffixes tried against globKeys; what each should
// match is decided by kv.Match, the contract's matcher.
var globPatterns = []string{
	"*", "?", "h?llo", "h*llo", "h*", "*llo", "h[ae]llo", "h[^e]llo", "h[a-e]llo", "h[e-a]llo",
	"[abc]", "[^a]", "[a-c]", "[\\-]", "[\\]]", "[^a-c]",
	"a\\*b", "a*b", "a?b", "a\\?b", "a\\\\b", "a[[]b]c", "\\[x\\]", "[[]x]", "\\*", "\\?", "\\\\",
	"no-such-key*", "h\\ello",
}

var scanCases = []testCase{
	{
		name:  "Scan/LiveKeys",
		rule:  "after removing duplicates, Scan yields exactly the live keys that match, never a deleted one",
		needs: []capability{scanner},
		run: func(h *harness) {
			var live []string
			for i := range 200 {
				k := h.key(fmt.Sprintf("k%03d", i))
				h.set(k, []byte{byte(i)})
				if i%5 == 0 {
					h.del(k)
					continue
				}
				live = append(live, k)
			}
			h.wantScan(h.pattern("*"), live, "of 200 keys of which 40 were deleted")
		},
	},
	{
		name:  "Scan/Patterns",
		rule:  "Scan patterns follow kv.Match: '*', '?', sets, negated sets, ranges and escapes",
		needs: []capability{scanner},
		run: func(h *harness) {
			keys := h.keysFor(globKeys...)
			for _, k := range keys {
				h.set(k, []byte("v"))
			}
			gone := h.key("hullo")
			h.set(gone, []byte("v"))
			h.del(gone)
			for _, g := range globPatterns {
				p := h.pattern(g)
				h.wantScan(p, matching(p, keys), "of keys written with glob patterns in mind")
			}
		},
	},
	{
		name:  "Scan/EscapedKeys",
		rule:  "kv.EscapePattern of a key makes a pattern that matches that key only, whatever glob characters it holds",
		needs: []capability{scanner},
		run: func(h *harness) {
			keys := h.keysFor(globKeys...)
			for _, k := range keys {
				h.set(k, []byte("v"))
			}
			for _, k := range keys {
				h.wantScan(kv.EscapePattern(k), []string{k}, "of the escaped key")
			}
		},
	},
	{
		name:  "Scan/BinaryKeys",
		rule:  "Scan yields keys byte for byte, including NUL, invalid UTF-8 and newlines",
		needs: []capability{scanner},
		run: func(h *harness) {
			keys := h.keysFor(binaryKeys...)
			for _, k := range keys {
				h.set(k, []byte("v"))
			}
			h.wantScan(h.pattern("*"), keys, "of binary keys")
		},
	},
	{
		name:  "Scan/EarlyBreak",
		rule:  "Scan is a well-behaved iterator: it stops when the loop body breaks and the store stays usable",
		needs: []capability{scanner},
		run: func(h *harness) {
			keys := h.keysFor("a", "b", "c")
			for _, k := range keys {
				h.set(k, []byte("v"))
			}
			if problem := breakAfterFirst(h, h.pattern("*")); problem != "" {
				h.errorf("Scan(%q) with a loop that breaks after one key: %s", h.pattern("*"), problem)
			}
			h.wantValue(keys[0], []byte("v"), "after a Scan loop ended early")
		},
	},
}

// matching returns the keys that kv.Match says pattern matches.
func matching(pattern string, keys []string) []string {
	var m []string
	for _, k := range keys {
		if kv.Match(pattern, k) {
			m = append(m, k)
		}
	}
	return m
}

// breakAfterFirst ranges over Scan and breaks after the first key, turning
// the runtime's panic for an iterator that goes on into a problem.
func breakAfterFirst(h *harness, pattern string) (problem string) {
	defer func() {
		if r := recover(); r != nil {
			problem = fmt.Sprintf("panic: %v", r)
		}
	}()
	n := 0
	for _, err := range h.sc().Scan(h.ctx, pattern) {
		if err != nil {
			return "yielded error " + err.Error()
		}
		if n++; n == 1 {
			break
		}
	}
	if n == 0 {
		return "yielded no key, want at least one"
	}
	return ""
}
