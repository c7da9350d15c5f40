package rediskv

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// TestSlotAgainstRedis compares Slot with CLUSTER KEYSLOT on random keys
// rich in braces.
func TestSlotAgainstRedis(t *testing.T) {
	srv := redistest.Start(t, &redistest.Options{Args: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"}})
	r := rand.New(rand.NewPCG(3, 4))
	const alphabet = "ab{}{}\x00\xff:"
	for range 500 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		key := string(b)
		got, err := srv.Do("CLUSTER", "KEYSLOT", key)
		if err != nil {
			t.Fatal(err)
		}
		if want := got.(int64); Slot(key) != int(want) {
			t.Errorf("Slot(%q) = %d, CLUSTER KEYSLOT = %d", key, Slot(key), want)
		}
	}
}

// TestScripts runs the history scripts on a real Redis.
func TestScripts(t *testing.T) {
	srv := redistest.Start(t, nil)
	eval := func(script, key string, args ...string) (any, error) {
		return srv.Do(append([]string{"EVAL", script, "1", key}, args...)...)
	}
	latest := func(key string) any {
		t.Helper()
		v, err := eval(latestScript.src, key)
		if err != nil {
			t.Fatalf("Latest(%q): %v", key, err)
		}
		return v
	}
	wantWrongType := func(err error, what string) {
		t.Helper()
		var re redistest.ReplyError
		if !errors.As(err, &re) || ReplySentinel(string(re)) != kv.ErrWrongType {
			t.Errorf("%s: err = %v, want a WRONGTYPE reply", what, err)
		}
	}

	if v := latest("missing"); v != nil {
		t.Errorf("Latest of a missing key = %v, want nil", v)
	}
	for i, value := range []string{"one", "", "three\x00\xff"} {
		n, err := eval(appendScript.src, "h", value)
		if err != nil || n != int64(i+1) {
			t.Fatalf("Append #%d = %v, %v; want %d", i+1, n, err, i+1)
		}
		if v := latest("h").([]any); v[0] != int64(i+1) || v[1] != value {
			t.Errorf("Latest after Append #%d = %q, want {%d, %q}", i+1, v, i+1, value)
		}
	}

	srv.MustDo("SET", "plain", "old")
	if v := latest("plain").([]any); v[0] != int64(1) || v[1] != "old" {
		t.Errorf("Latest of a plain value = %q, want {1, old}", v)
	}
	if n, err := eval(appendScript.src, "plain", "new"); err != nil || n != int64(2) {
		t.Fatalf("Append onto a plain value = %v, %v; want 2", n, err)
	}
	if got := srv.MustDo("LRANGE", "plain", "0", "-1"); !equalStrings(got, "old", "new") {
		t.Errorf("list after converting a plain value = %q, want [old new]", got)
	}

	srv.MustDo("HSET", "hash", "f", "v")
	_, err := eval(appendScript.src, "hash", "x")
	wantWrongType(err, "Append onto a hash")
	_, err = eval(latestScript.src, "hash")
	wantWrongType(err, "Latest of a hash")
	_, err = eval(pruneScript.src, "hash", "2")
	wantWrongType(err, "Prune of a hash")
}

// TestPruneScript runs pruneScript on a real Redis: it empties the entries
// below before, newest first, never the newest entry, and stops at an entry
// that is already empty.
func TestPruneScript(t *testing.T) {
	srv := redistest.Start(t, nil)
	prune := func(key string, before int, want int64, wantList ...string) {
		t.Helper()
		n, err := srv.Do("EVAL", pruneScript.src, "1", key, strconv.Itoa(before))
		if err != nil || n != want {
			t.Errorf("Prune(%q, %d) = %v, %v; want %d", key, before, n, err, want)
		}
		if wantList == nil {
			return
		}
		if got := srv.MustDo("LRANGE", key, "0", "-1"); !equalStrings(got, wantList...) {
			t.Errorf("list after Prune(%q, %d) = %q, want %q", key, before, got, wantList)
		}
	}

	prune("missing", 5, 0)
	if n := srv.MustDo("EXISTS", "missing"); n != int64(0) {
		t.Errorf("Prune created a missing key")
	}
	srv.MustDo("SET", "plain", "old")
	prune("plain", 5, 0)
	if v := srv.MustDo("GET", "plain"); v != "old" {
		t.Errorf("plain value after Prune = %q, want old", v)
	}

	srv.MustDo("RPUSH", "h", "v1", "v2", "v3", "v4", "v5")
	prune("h", 1, 0, "v1", "v2", "v3", "v4", "v5")
	prune("h", 3, 2, "", "", "v3", "v4", "v5")
	prune("h", 3, 0, "", "", "v3", "v4", "v5")
	prune("h", 100, 2, "", "", "", "", "v5") // never the newest
	prune("h", 100, 0, "", "", "", "", "v5")
	srv.MustDo("RPUSH", "h", "v6", "v7")
	prune("h", 7, 2, "", "", "", "", "", "", "v7") // v5 and v6, then stops at v4

	// An entry that was empty from the start stops the walk too.
	srv.MustDo("RPUSH", "gap", "v1", "", "v3", "v4")
	prune("gap", 5, 1, "v1", "", "", "v4")

	srv.MustDo("RPUSH", "one", "v1")
	prune("one", 100, 0, "v1")
}

func equalStrings(v any, want ...string) bool {
	arr, _ := v.([]any)
	if len(arr) != len(want) {
		return false
	}
	for i, w := range want {
		if arr[i] != w {
			return false
		}
	}
	return true
}

// TestLatestMultiScript runs the batched latest-read script on a real
// Redis, on a key of every kind.
func TestLatestMultiScript(t *testing.T) {
	srv := redistest.Start(t, nil)
	srv.MustDo("RPUSH", "list", "a", "b", "")
	srv.MustDo("RPUSH", "one", "x\x00\xff")
	srv.MustDo("SET", "plain", "p")
	srv.MustDo("SET", "emptyplain", "")
	srv.MustDo("SADD", "set", "m")
	keys := []string{"list", "missing", "one", "plain", "set", "emptyplain", "list"}
	got, err := srv.Do(append([]string{"EVAL", latestMultiScript.src, strconv.Itoa(len(keys))}, keys...)...)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{[]any{int64(3), ""}, int64(0), []any{int64(1), "x\x00\xff"}, []any{int64(1), "p"}, int64(-1),
		[]any{int64(1), ""}, []any{int64(3), ""}}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("latestMultiScript(%q) = %q, want %q", keys, got, want)
	}
}
