package rediskv

import (
	"errors"
	"strconv"
	"testing"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// TestAtomicScripts runs the scripts of the conditional writes, the expiry
// changes, the bulk write and the conditional append on a real Redis.
func TestAtomicScripts(t *testing.T) {
	srv := redistest.Start(t, nil)
	eval := func(sc *script, keys []string, args ...string) (any, error) {
		cmd := append([]string{"EVAL", sc.src, strconv.Itoa(len(keys))}, keys...)
		return srv.Do(append(cmd, args...)...)
	}
	want := func(what string, got any, err error, wantV any) {
		t.Helper()
		if err != nil || !equalAny(got, wantV) {
			t.Errorf("%s = %#v, %v; want %#v", what, got, err, wantV)
		}
	}
	wantWrongType := func(what string, err error) {
		t.Helper()
		var re redistest.ReplyError
		if !errors.As(err, &re) || ReplySentinel(string(re)) != kv.ErrWrongType {
			t.Errorf("%s: err = %v, want a WRONGTYPE reply", what, err)
		}
	}
	srv.MustDo("RPUSH", "list", "a")

	// casScript
	got, err := eval(casScript, []string{"k"}, "", "x", "0")
	want("CAS of a missing key", got, err, int64(0))
	srv.MustDo("SET", "k", "old", "PX", "100000")
	got, err = eval(casScript, []string{"k"}, "other", "x", "0")
	want("CAS with a wrong old value", got, err, int64(0))
	got, err = eval(casScript, []string{"k"}, "old", "new", "0")
	want("CAS keeping the TTL", got, err, int64(1))
	if pttl := srv.MustDo("PTTL", "k").(int64); pttl <= 0 || pttl > 100000 {
		t.Errorf("PTTL after CAS with KEEPTTL = %d, want the old expiry", pttl)
	}
	got, err = eval(casScript, []string{"k"}, "new", "newer", "5000")
	want("CAS with a TTL", got, err, int64(1))
	if pttl := srv.MustDo("PTTL", "k").(int64); pttl <= 0 || pttl > 5000 {
		t.Errorf("PTTL after CAS with PX 5000 = %d", pttl)
	}
	want("GET after CAS", srv.MustDo("GET", "k"), nil, "newer")
	_, err = eval(casScript, []string{"list"}, "a", "b", "0")
	wantWrongType("CAS of a list", err)

	// cadScript
	got, err = eval(cadScript, []string{"k"}, "old")
	want("CAD with a wrong old value", got, err, int64(0))
	got, err = eval(cadScript, []string{"k"}, "newer")
	want("CAD", got, err, int64(1))
	want("EXISTS after CAD", srv.MustDo("EXISTS", "k"), nil, int64(0))
	_, err = eval(cadScript, []string{"list"}, "a")
	wantWrongType("CAD of a list", err)

	// persistScript
	got, err = eval(persistScript, []string{"k"})
	want("Persist of a missing key", got, err, int64(0))
	srv.MustDo("SET", "k", "v")
	got, err = eval(persistScript, []string{"k"})
	want("Persist of a key without TTL", got, err, int64(1))
	srv.MustDo("PEXPIRE", "k", "100000")
	got, err = eval(persistScript, []string{"k"})
	want("Persist of a key with a TTL", got, err, int64(1))
	want("PTTL after Persist", srv.MustDo("PTTL", "k"), nil, int64(-1))

	// getWithTTLScript
	got, err = eval(getWithTTLScript, []string{"missing"})
	want("GetWithTTL of a missing key", got, err, nil)
	got, err = eval(getWithTTLScript, []string{"k"})
	want("GetWithTTL without TTL", got, err, []any{"v", int64(-1)})
	_, err = eval(getWithTTLScript, []string{"list"})
	wantWrongType("GetWithTTL of a list", err)

	// setScript
	got, err = eval(setScript, []string{"a", "b", ""}, "1", "0", "2", "60000", "", "0")
	want("setScript", got, err, int64(3))
	want("MGET after setScript", srv.MustDo("MGET", "a", "b", ""), nil, []any{"1", "2", ""})
	if pttl := srv.MustDo("PTTL", "b").(int64); pttl <= 0 || pttl > 60000 {
		t.Errorf("PTTL of b = %d, want up to 60000", pttl)
	}
	want("PTTL of a", srv.MustDo("PTTL", "a"), nil, int64(-1))

	// appendScript with an expected version
	got, err = eval(appendScript, []string{"h"}, "v1", "1")
	want("AppendIf 1 on a missing key", got, err, []any{int64(0)})
	got, err = eval(appendScript, []string{"h"}, "v1", "0")
	want("AppendIf 0 on a missing key", got, err, int64(1))
	got, err = eval(appendScript, []string{"h"}, "v2", "1")
	want("AppendIf 1", got, err, int64(2))
	got, err = eval(appendScript, []string{"h"}, "v3", "5")
	want("AppendIf 5 at version 2", got, err, []any{int64(2)})
	got, err = eval(appendScript, []string{"a"}, "2", "0")
	want("AppendIf 0 on a plain value", got, err, []any{int64(1)})
	got, err = eval(appendScript, []string{"a"}, "2", "1")
	want("AppendIf 1 on a plain value", got, err, int64(2))
	want("LRANGE after converting", srv.MustDo("LRANGE", "a", "0", "-1"), nil, []any{"1", "2"})
	srv.MustDo("HSET", "hash", "f", "v")
	_, err = eval(appendScript, []string{"hash"}, "x", "0")
	wantWrongType("AppendIf on a hash", err)
}

// equalAny compares replies of redistest.
func equalAny(a, b any) bool {
	x, ok1 := a.([]any)
	y, ok2 := b.([]any)
	if !ok1 || !ok2 {
		return a == b
	}
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !equalAny(x[i], y[i]) {
			return false
		}
	}
	return true
}
