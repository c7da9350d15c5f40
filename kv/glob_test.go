package kv_test

import (
	"strings"
	"testing"

	"github.com/cledar/storekit/kv"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, key string
		want         bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},   // SCAN and KEYS treat a lone '*' as match-all
		{"**", "", false}, // but the matcher itself needs a byte for '*'
		{"a*", "a", true},
		{"*", "anything", true},
		{"**", "x", true},
		{"a*", "abc", true},
		{"a*", "ba", false},
		{"*c", "abc", true},
		{"a*c", "ac", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxcyyb", false},
		{"?", "a", true},
		{"?", "", false},
		{"?", "ab", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"?", "\xff", true}, // one byte, not one rune
		{"?", "é", false},   // two bytes
		{"??", "é", true},
		{"[abc]", "b", true},
		{"[abc]", "d", false},
		{"[^abc]", "d", true},
		{"[^abc]", "a", false},
		{"[a-c]", "b", true},
		{"[a-c]", "d", false},
		{"[c-a]", "b", true}, // reversed ranges are swapped
		{"[a-]", "-", false}, // the range runs from 'a' to ']', swapped
		{"[a-]", "_", true},
		{"[a-]", "a", true},
		{"[]]", "]", false}, // ']' right after '[' closes an empty set
		{`[\]]`, "]", true},
		{`[\-]`, "-", true},
		{"[", "[", false},  // an unclosed set that is empty matches nothing
		{"[^", "x", true},  // an unclosed negated empty set matches any byte
		{"[ab", "b", true}, // an unclosed set extends to the end
		{"[ab", "c", false},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{`\?`, "?", true},
		{`\[a]`, "[a]", true},
		{`a\`, `a\`, true}, // a trailing backslash is literal
		{`\\`, `\`, true},
		{"h[ae]llo", "hello", true},
		{"h[ae]llo", "hillo", false},
		{"user:*:name", "user:42:name", true},
		{"user:*:name", "user:42:email", false},
		{"*a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", false},
		{"a*", "a\x00b", true},
		{"a\x00*", "a\x00b", true},
		// Redis compares range bounds as signed chars: bytes >= 0x80 sort
		// below 0x00.
		{"[\x80-a]", "\x90", true},
		{"[\x80-a]", "\x01", true},
		{"[\x01-\x7f]", "\x80", false},
		{"[a-z]", "\xe1", false},
	}
	for _, tt := range tests {
		if got := kv.Match(tt.pattern, tt.key); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.key, got, tt.want)
		}
	}
}

func TestMatchBoundsPathologicalPatterns(t *testing.T) {
	// Redis's matcher gives up on patterns nested deeper than 1000 stars and
	// stops retrying longer matches once the rest of the pattern failed;
	// both keep this from taking exponential time.
	pattern := strings.Repeat("*a", 40) + "b"
	key := strings.Repeat("a", 60)
	if kv.Match(pattern, key) {
		t.Fatalf("Match(%q, %q) = true", pattern, key)
	}
	if !kv.Match(strings.Repeat("*", 5000), "x") {
		t.Fatal("a run of stars is one star")
	}
}

func TestEscapePattern(t *testing.T) {
	keys := []string{"", "plain", "a*b", "a?b", "[x]", `back\slash`, "^-!", "\x00\xff", "*"}
	for _, k := range keys {
		p := kv.EscapePattern(k)
		for _, other := range keys {
			if got, want := kv.Match(p, other), other == k; got != want {
				t.Errorf("Match(EscapePattern(%q) = %q, %q) = %v, want %v", k, p, other, got, want)
			}
		}
	}
	if got := kv.EscapePattern("user:1"); got != "user:1" {
		t.Errorf("EscapePattern of a plain key = %q, want it unchanged", got)
	}
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"", "*", "?", "[a-z]", "[^", `\`, "a*b?c[d-f]", "\xff[\x80-a]"} {
		f.Add(s, "abc")
	}
	f.Fuzz(func(t *testing.T, pattern, key string) {
		kv.Match(pattern, key) // must not panic
		if !kv.Match(kv.EscapePattern(key), key) {
			t.Fatalf("EscapePattern(%q) does not match its key", key)
		}
		if pattern != key && kv.Match(kv.EscapePattern(pattern), key) {
			t.Fatalf("EscapePattern(%q) matches another key %q", pattern, key)
		}
		if !kv.Match("*", key) {
			t.Fatalf("* does not match %q", key)
		}
	})
}
