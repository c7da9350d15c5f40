package kv_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// TestCounterRuleMatchesRedis runs the tables of TestParseCounter and
// TestAddCounter through a real server's SET and INCRBY: ParseCounter and
// AddCounter must accept, compute and reject exactly as Redis does, with
// "not an integer" as ErrWrongType and "would overflow" as ErrInvalid. It is
// skipped without a redis-server, or fails with STOREKIT_REQUIRE_REDIS=1.
func TestCounterRuleMatchesRedis(t *testing.T) {
	srv := redistest.Start(t, nil)
	incrby := func(value string, delta int64) (int64, error) {
		t.Helper()
		srv.MustDo("SET", "counter", value)
		reply, err := srv.Do("INCRBY", "counter", strconv.FormatInt(delta, 10))
		var re redistest.ReplyError
		switch {
		case errors.As(err, &re) && strings.Contains(string(re), "not an integer"):
			return 0, kv.ErrWrongType
		case errors.As(err, &re) && strings.Contains(string(re), "would overflow"):
			return 0, kv.ErrInvalid
		case err != nil:
			t.Fatalf("SET %q, INCRBY %d: %v", value, delta, err)
		}
		n, ok := reply.(int64)
		if !ok {
			t.Fatalf("SET %q, INCRBY %d replied %#v, want an integer", value, delta, reply)
		}
		return n, nil
	}
	agree := func(value string, delta int64, got int64, err error) {
		t.Helper()
		want, wantErr := incrby(value, delta)
		if (err == nil) != (wantErr == nil) || (err != nil && !errors.Is(err, wantErr)) || (err == nil && got != want) {
			t.Errorf("value %q, delta %d: storekit gives %d, %v; Redis gives %d, %v", value, delta, got, err, want, wantErr)
		}
	}
	for _, tt := range counterCases {
		got, err := kv.ParseCounter([]byte(tt.value))
		agree(tt.value, 0, got, err)
	}
	for _, tt := range addCases {
		got, err := kv.AddCounter([]byte(tt.value), tt.delta)
		agree(tt.value, tt.delta, got, err)
	}
}
