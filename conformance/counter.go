package conformance

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/cledar/storekit/kv"
)

// notCounters are values that Incr must refuse: not the decimal text of an
// int64 as Redis writes it.
var notCounters = []string{
	"", "+1", "01", "00", "-0", "-01", "-", " 1", "1 ", "1\n", "1.5", "1e3", "0x10",
	"abc", "1a", "١", "9223372036854775808", "-9223372036854775809", "99999999999999999999",
}

// counters are values that Incr must accept, with the number each is.
var counters = map[string]int64{
	"0": 0, "7": 7, "-7": -7, "42": 42, "1000000": 1000000,
	"9223372036854775807": math.MaxInt64, "-9223372036854775808": math.MinInt64,
}

var counterCases = []testCase{
	{
		name:  "Counter/Create",
		rule:  "Incr of a missing key counts from 0 and writes the result as decimal text, which Get returns",
		needs: []capability{counter},
		run: func(h *harness) {
			for _, delta := range []int64{5, 0, -3, math.MinInt64} {
				k := h.key("k" + strconv.FormatInt(delta, 10))
				h.wantIncr(k, delta, delta, "of a missing key")
				h.wantValue(k, []byte(strconv.FormatInt(delta, 10)), fmt.Sprintf("after Incr(_, %d) of a missing key", delta))
			}
		},
	},
	{
		name:  "Counter/Deltas",
		rule:  "Incr adds a positive, negative or zero delta to the decimal integer at the key and returns the sum",
		needs: []capability{counter},
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("10"))
			for _, step := range []struct{ delta, want int64 }{{-15, -5}, {0, -5}, {7, 2}, {-2, 0}, {1, 1}} {
				h.wantIncr(k, step.delta, step.want, "")
			}
			h.wantValue(k, []byte("1"), "after Incr calls")
			for text, n := range counters {
				c := h.key("c" + text)
				h.set(c, []byte(text))
				h.wantIncr(c, 0, n, fmt.Sprintf("of %q", text))
				h.wantValue(c, []byte(text), "after Incr(_, 0)")
			}
		},
	},
	{
		name: "Counter/Format",
		rule: "Incr of a value that is not an int64's decimal text as Redis writes it (\"+1\", \"01\", \"-0\", \" 1\", " +
			"\"1.5\", \"abc\", \"9223372036854775808\", ...), or of a history, returns an error wrapping kv.ErrWrongType " +
			"and leaves the value unchanged",
		needs: []capability{counter},
		run: func(h *harness) {
			for i, text := range notCounters {
				k := h.key("bad" + strconv.Itoa(i))
				h.set(k, []byte(text))
				n, err := h.ctr().Incr(h.ctx, k, 1)
				h.wantErr(err, kv.ErrWrongType, "Incr(%q, 1) of %q (returned %d)", k, text, n)
				h.wantValue(k, []byte(text), fmt.Sprintf("after Incr of %q was refused", text))
			}
			if h.has(historian) {
				hist := h.key("hist")
				h.appendAll(hist, "1")
				n, err := h.ctr().Incr(h.ctx, hist, 1)
				h.wantErr(err, kv.ErrWrongType, "Incr(%q, 1) of a history (returned %d)", hist, n)
				h.wantHistory(hist, "after Incr of a history was refused", "1")
			}
		},
	},
	{
		name:  "Counter/Overflow",
		rule:  "Incr whose sum is beyond the int64 range returns an error wrapping kv.ErrInvalid and leaves the value unchanged",
		needs: []capability{counter},
		run: func(h *harness) {
			for i, c := range []struct {
				text  string
				delta int64
			}{
				{"9223372036854775807", 1},
				{"-9223372036854775808", -1},
				{"1", math.MaxInt64},
				{"-2", math.MinInt64},
				{"9223372036854775807", math.MaxInt64},
			} {
				k := h.key("k" + strconv.Itoa(i))
				h.set(k, []byte(c.text))
				n, err := h.ctr().Incr(h.ctx, k, c.delta)
				h.wantErr(err, kv.ErrInvalid, "Incr(%q, %d) of %q (returned %d)", k, c.delta, c.text, n)
				h.wantValue(k, []byte(c.text), fmt.Sprintf("after Incr(_, %d) of %q overflowed", c.delta, c.text))
			}
			edge := h.key("edge")
			h.set(edge, []byte("-1"))
			h.wantIncr(edge, math.MaxInt64, math.MaxInt64-1, "of \"-1\"")
			h.wantIncr(edge, 1, math.MaxInt64, "up to the largest int64")
		},
	},
	{
		name:  "Counter/KeepsExpiry",
		rule:  "Incr keeps the key's expiry, or lack of one",
		needs: []capability{counter, expirer},
		run: func(h *harness) {
			withTTL, plain, created := h.key("ttl"), h.key("plain"), h.key("created")
			h.setTTL(withTTL, []byte("10"), longTTL)
			h.wantIncr(withTTL, 1, 11, "of a key with an expiry")
			h.wantTTLWithin(withTTL, longTTL, "after Incr")
			h.set(plain, []byte("10"))
			h.wantIncr(plain, 1, 11, "of a key without expiry")
			h.wantNoExpiry(plain, "after Incr")
			h.wantIncr(created, 1, 1, "of a missing key")
			h.wantNoExpiry(created, "after Incr of a missing key")
		},
	},
	{
		name: "Counter/Concurrent",
		rule: fmt.Sprintf("Incr is atomic: %d goroutines that each Incr one key by 1 %d times get distinct sums, "+
			"and the key ends at exactly %d", racers, increments, racers*increments),
		needs: []capability{counter},
		run: func(h *harness) {
			k := h.key("k")
			sums := make([][]int64, racers)
			h.reportProblems(concurrently(racers, func(g int) string {
				for range increments {
					n, err := h.ctr().Incr(h.ctx, k, 1)
					if err != nil {
						return fmt.Sprintf("Incr(%q, 1): unexpected error: %v", k, err)
					}
					sums[g] = append(sums[g], n)
				}
				return ""
			}))
			all := slices.Sorted(slices.Values(slices.Concat(sums...)))
			if n := len(slices.Compact(slices.Clone(all))); n != len(all) {
				h.errorf("%d concurrent Incr calls of %q returned %d distinct sums, want all distinct", len(all), k, n)
			}
			h.wantValue(k, []byte(strconv.Itoa(racers*increments)),
				fmt.Sprintf("after %d goroutines each called Incr(_, 1) %d times", racers, increments))
		},
	},
	{
		name:  "Counter/Events",
		rule:  "Incr is reported as OpSet; an Incr that returns an error is not reported",
		needs: []capability{counter, watcher},
		run: func(h *harness) {
			k, bad, top := h.key("k"), h.key("bad"), h.key("top")
			h.set(bad, []byte("abc"))
			h.set(top, []byte(strconv.FormatInt(math.MaxInt64, 10)))
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.wantIncr(k, 1, 1, "of a missing key")
			for _, key := range []string{bad, top} {
				_, err := h.ctr().Incr(h.ctx, key, 1)
				if err == nil {
					h.errorf("Incr(%q, 1) of %s: got no error", key, map[string]string{bad: `"abc"`, top: "the largest int64"}[key])
				}
			}
			h.wantIncr(k, 2, 3, "")
			h.del(bad)
			h.del(top)
			w.expectAll(h.cfg.eventTimeout, "after Incr calls, some refused",
				map[string][]kv.Op{k: {kv.OpSet, kv.OpSet}, bad: {kv.OpDelete}, top: {kv.OpDelete}})
		},
	},
}

// wantIncr checks that Incr(key, delta) returns want; what says when.
func (h *harness) wantIncr(key string, delta, want int64, what string) {
	h.t.Helper()
	got, err := h.ctr().Incr(h.ctx, key, delta)
	if err != nil || got != want {
		h.errorf("Incr(%q, %d) %s = %d, %v; want %d, nil", key, delta, what, got, err, want)
	}
}
