package kv_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/cledar/storekit/kv"
)

// counterCases are values and what ParseCounter makes of them: the integer,
// or, when bad, an error wrapping kv.ErrWrongType. TestCounterRuleMatchesRedis
// checks every case against a real Redis server.
var counterCases = []struct {
	value string
	want  int64
	bad   bool
}{
	{"0", 0, false},
	{"1", 1, false},
	{"-1", -1, false},
	{"42", 42, false},
	{"-7", -7, false},
	{"10", 10, false},
	{"1000000", 1000000, false},
	{"9223372036854775807", math.MaxInt64, false},
	{"-9223372036854775808", math.MinInt64, false},
	{"-9223372036854775807", math.MinInt64 + 1, false},

	{"", 0, true},
	{"-", 0, true},
	{"-0", 0, true},
	{"00", 0, true},
	{"007", 0, true},
	{"-007", 0, true},
	{"+1", 0, true},
	{"+0", 0, true},
	{" 1", 0, true},
	{"1 ", 0, true},
	{"1\n", 0, true},
	{"1\x00", 0, true},
	{"\x00", 0, true},
	{"--1", 0, true},
	{"1-", 0, true},
	{"1.0", 0, true},
	{"1e3", 0, true},
	{"0x10", 0, true},
	{"1_000", 0, true},
	{"abc", 0, true},
	{"١", 0, true}, // a digit, but not an ASCII one
	{"9223372036854775808", 0, true},
	{"-9223372036854775809", 0, true},
	{"18446744073709551615", 0, true},  // 20 digits: MaxUint64
	{"18446744073709551616", 0, true},  // 20 digits: past MaxUint64
	{"99999999999999999999", 0, true},  // 20 digits
	{"10000000000000000000", 0, true},  // 20 digits
	{"-99999999999999999999", 0, true}, // 21 bytes
	{"-10000000000000000000", 0, true}, // 21 bytes
	{"00000000000000000001", 0, true},  // 20 bytes, leading zeros
	{strings.Repeat("9", 40), 0, true},
}

func TestParseCounter(t *testing.T) {
	for _, tt := range counterCases {
		got, err := kv.ParseCounter([]byte(tt.value))
		switch {
		case tt.bad && !errors.Is(err, kv.ErrWrongType):
			t.Errorf("ParseCounter(%q) = %d, %v; want an error wrapping kv.ErrWrongType", tt.value, got, err)
		case !tt.bad && (err != nil || got != tt.want):
			t.Errorf("ParseCounter(%q) = %d, %v; want %d", tt.value, got, err, tt.want)
		}
	}
}

// addCases are sums of AddCounter: the result, or the sentinel its error
// wraps. TestCounterRuleMatchesRedis checks them against INCRBY.
var addCases = []struct {
	value string
	delta int64
	want  int64
	err   error
}{
	{"0", 0, 0, nil},
	{"41", 1, 42, nil},
	{"5", -7, -2, nil},
	{"-5", 5, 0, nil},
	{"9223372036854775806", 1, math.MaxInt64, nil},
	{"-9223372036854775807", -1, math.MinInt64, nil},
	{"9223372036854775807", math.MinInt64, -1, nil},
	{"-9223372036854775808", math.MaxInt64, -1, nil},
	{"9223372036854775807", 0, math.MaxInt64, nil},
	{"-9223372036854775808", 0, math.MinInt64, nil},

	{"9223372036854775807", 1, 0, kv.ErrInvalid},
	{"1", math.MaxInt64, 0, kv.ErrInvalid},
	{"9223372036854775807", math.MaxInt64, 0, kv.ErrInvalid},
	{"-9223372036854775808", -1, 0, kv.ErrInvalid},
	{"-1", math.MinInt64, 0, kv.ErrInvalid},
	{"-9223372036854775808", math.MinInt64, 0, kv.ErrInvalid},

	// A value that is not a counter is the first error, whatever the sum.
	{"abc", 1, 0, kv.ErrWrongType},
	{"", 0, 0, kv.ErrWrongType},
	{"9223372036854775808", -1, 0, kv.ErrWrongType},
}

func TestAddCounter(t *testing.T) {
	for _, tt := range addCases {
		got, err := kv.AddCounter([]byte(tt.value), tt.delta)
		switch {
		case tt.err != nil && !errors.Is(err, tt.err):
			t.Errorf("AddCounter(%q, %d) = %d, %v; want an error wrapping %v", tt.value, tt.delta, got, err, tt.err)
		case tt.err == nil && (err != nil || got != tt.want):
			t.Errorf("AddCounter(%q, %d) = %d, %v; want %d", tt.value, tt.delta, got, err, tt.want)
		}
	}
}

func TestCounterErrorsDoNotHoldTheValue(t *testing.T) {
	_, err := kv.ParseCounter([]byte("secret"))
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("ParseCounter error %q quotes the value", err)
	}
}
