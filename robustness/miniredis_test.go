package robustness

import (
	"errors"
	"testing"

	"github.com/cledar/storekit/kv"
)

// TestMiniredisPrefix: a pattern with a character class or a byte that is
// not UTF-8 is cut before its first wildcard or that byte; an escaped '['
// is no class.
func TestMiniredisPrefix(t *testing.T) {
	for _, c := range []struct {
		pattern, prefix string
		rewrite         bool
	}{
		{"d1:*", "d1:", false},
		{`d1:\[`, `d1:\[`, false},
		{"d1:a*[b-a]", "d1:a", true},
		{"d1:[ab]*", "d1:", true},
		{`d1:\*x[`, `d1:\*x`, true},
		{"d1:\xff\xfe", "d1:", true},
		{"d1:a?\xff", "d1:a", true},
		{"d1:\\\xff", "d1:", true},
		{`d1:\`, `d1:\`, false},
	} {
		prefix, rewrite := miniredisPrefix(c.pattern)
		if prefix != c.prefix || rewrite != c.rewrite {
			t.Errorf("miniredisPrefix(%q) = %q, %v, want %q, %v", c.pattern, prefix, rewrite, c.prefix, c.rewrite)
		}
	}
}

// TestMiniredisAddCounter: the values strconv.Atoi accepts and Redis does
// not count, others are not counters, and an overflow is refused as by
// kv.AddCounter.
func TestMiniredisAddCounter(t *testing.T) {
	for _, c := range []struct {
		value string
		want  int64
		err   error
	}{
		{"+1", 2, nil},
		{"01", 2, nil},
		{"-0", 1, nil},
		{" 1", 0, kv.ErrWrongType},
		{"1.5", 0, kv.ErrWrongType},
		{"", 0, kv.ErrWrongType},
		{"9223372036854775807", 0, kv.ErrInvalid},
	} {
		n, err := miniredisAddCounter([]byte(c.value), 1)
		if n != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("miniredisAddCounter(%q, 1) = %d, %v, want %d, %v", c.value, n, err, c.want, c.err)
		}
	}
}
