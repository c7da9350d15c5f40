package goredis_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// globKeys and globPatterns are the table of the differential test of
// kv.Match against Redis's SCAN MATCH.
var (
	globKeys = []string{
		"", "a", "b", "ab", "abc", "abd", "aXc", "a-c", "a]c", "a^c", "a\\c", "a*c", "a?c", "a[c",
		"hello", "hallo", "hxllo", "hllo", "heeeello", "h]llo", "h-llo", "h^llo",
		"\x00", "a\x00c", "\x80", "\xff", "a\xffc", "\xc3\xa9", "é", "[", "]", "\\", "*", "?", "^", "-",
		"user:1", "user:10", "user:{1}", "x\\", "[a]", "a[b]c", "\t\n ",
	}
	globPatterns = []string{
		"", "*", "**", "***", "?", "??", "???", "a*", "*c", "a*c", "*a*", "a?c", "h?llo", "h*llo",
		"h[ae]llo", "h[^e]llo", "h[a-b]llo", "h[e-a]llo", "h[a-z]llo", "h[z-a]llo", "[a-c]", "[c-a]",
		"a[]]c", "a[]c", "a[^]c", "a[^]]c", "a[\\]]c", "a[\\-]c", "a[-]c", "a[a-]c", "a[-a]c", "a[^-]c",
		"a\\*c", "a\\?c", "a\\[c", "a\\\\c", "a\\c", "\\a\\b", "a\\", "\\", "x\\", "[", "[a", "a[", "a[bc",
		"[^", "[^a", "a[^", "[]", "[^]", "]", "*]", "[\\", "[a-", "[a-\\", "[\\x80-\\xff]",
		"\x80", "[\x80-\xff]", "[\xff-\x80]", "[\x00-\x7f]", "?\xff?", "*\xff*", "[\xc3]*", "\\\x00", "a\x00c",
		"user:*", "user:?", "user:??", "user:\\{1\\}", "user:{1}", "[[]", "[[]a]", "[a]", "\\[a\\]",
		"*\\", "*[", "*?", "?*", "*?*", "h*l*o", "h**llo", "[^a-z]*", "[!a]*",
	}
)

// globAlphabet is the alphabet of random keys and patterns: glob characters,
// a few letters, NUL and bytes at and above 0x80.
const globAlphabet = "ab*?[]^-\\\x00\x80\xff"

func randomString(r *rand.Rand, maxLen int) string {
	b := make([]byte, r.IntN(maxLen+1))
	for i := range b {
		b[i] = globAlphabet[r.IntN(len(globAlphabet))]
	}
	return string(b)
}

// TestGlobAgainstRedis checks that kv.Match agrees with Redis's SCAN MATCH on
// a table of patterns and keys and on random ones over a small alphabet of
// special characters. It uses a server of its own, since every pattern scans
// the whole database.
func TestGlobAgainstRedis(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := newStore(t, srv.Addr(), nil)
	ctx := testContext(t)

	t.Run("Table", func(t *testing.T) {
		compareGlob(ctx, t, srv, s, globKeys, globPatterns)
	})
	t.Run("Random", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		keys := make([]string, 400)
		for i := range keys {
			keys[i] = randomString(r, 7)
		}
		patterns := make([]string, 800)
		for i := range patterns {
			patterns[i] = randomString(r, 7)
		}
		compareGlob(ctx, t, srv, s, keys, patterns)
	})
}

// compareGlob writes keys to an empty database and, for each pattern,
// compares the keys Scan yields with the keys kv.Match accepts.
func compareGlob(ctx context.Context, t *testing.T, srv *redistest.Server, s *goredis.Store, keys, patterns []string) {
	t.Helper()
	srv.MustDo("FLUSHALL")
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	for _, k := range keys {
		if err := s.Set(ctx, k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	mismatches := 0
	for _, p := range patterns {
		got, err := kv.Keys(ctx, s, p) // sorted
		if err != nil {
			t.Fatalf("Scan(%q): %v", p, err)
		}
		var want []string
		for _, k := range keys {
			if kv.Match(p, k) {
				want = append(want, k)
			}
		}
		if slices.Equal(got, want) {
			continue
		}
		for _, k := range keys {
			inRedis, inMatch := slices.Contains(got, k), slices.Contains(want, k)
			if inRedis != inMatch {
				mismatches++
				if mismatches <= 30 {
					t.Errorf("pattern %q, key %q: Redis SCAN MATCH says %v, kv.Match says %v", p, k, inRedis, inMatch)
				}
			}
		}
	}
	if mismatches > 30 {
		t.Errorf("... %d mismatches in all", mismatches)
	}
	t.Logf("%d patterns × %d keys compared", len(patterns), len(keys))
}
