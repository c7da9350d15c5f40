package kv

import (
	"fmt"
	"math"
)

// maxCounterLen is the longest value Redis reads as an integer: its
// string2ll rejects 21 bytes and more.
const maxCounterLen = 20

var errNotCounter = fmt.Errorf("value is not the decimal text of an int64: %w", ErrWrongType)

// ParseCounter returns the integer that value holds as a counter of
// [Counter.Incr]. It applies Redis's rule (string2ll, which INCRBY uses):
// value is an optional '-' followed by digits, at most 20 bytes in all,
// without '+', spaces or leading zeros ("0" itself is allowed, "-0" is
// not), and within the int64 range. Any other value, the empty one
// included, yields an error wrapping [ErrWrongType].
//
// Backends implement Incr with it (and [AddCounter]), so that every backend,
// a third party's too, accepts exactly the values Redis accepts.
func ParseCounter(value []byte) (int64, error) {
	if len(value) == 1 && value[0] == '0' {
		return 0, nil
	}
	if len(value) > maxCounterLen {
		return 0, errNotCounter
	}
	digits := value
	neg := len(value) > 0 && value[0] == '-'
	if neg {
		digits = value[1:]
	}
	if len(digits) == 0 || digits[0] < '1' || digits[0] > '9' {
		return 0, errNotCounter // empty, a bare '-', a sign or space, or a leading zero
	}
	// Accumulate the magnitude, which may reach 1<<63 (for math.MinInt64)
	// and, being checked at every digit, never wraps.
	const limit = uint64(1) << 63
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' || u > limit/10 {
			return 0, errNotCounter
		}
		u = u*10 + uint64(c-'0')
		if u > limit {
			return 0, errNotCounter
		}
	}
	if neg {
		return int64(-u), nil // -(1<<63) wraps to math.MinInt64, as intended
	}
	if u > math.MaxInt64 {
		return 0, errNotCounter
	}
	return int64(u), nil
}

// AddCounter returns the counter held by value plus delta, as Redis INCRBY
// computes it: value is read with [ParseCounter] (an error wrapping
// [ErrWrongType] when it is not a counter), and a sum beyond the int64
// range yields an error wrapping [ErrInvalid]. A backend stores the result
// as its decimal text (strconv.FormatInt(n, 10)); for a missing key, which
// counts as 0, the result is delta itself.
func AddCounter(value []byte, delta int64) (int64, error) {
	n, err := ParseCounter(value)
	if err != nil {
		return 0, err
	}
	sum := n + delta
	if (delta > 0 && sum < n) || (delta < 0 && sum > n) {
		return 0, fmt.Errorf("adding %d overflows int64: %w", delta, ErrInvalid)
	}
	return sum, nil
}
