package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/cledar/storekit/kv"
)

var latestMultiCases = []testCase{
	{
		name: "LatestMulti/OrderAndMissing",
		rule: "LatestMulti returns one result per key, in order, duplicates kept, each what Latest returns: " +
			"the newest entry and its version, a plain value as version 1, Found false for a missing key",
		needs: []capability{historian, multiLatest},
		run: func(h *harness) {
			hist, plain, empty := h.key("hist"), h.key("plain"), h.key("empty")
			h.appendAll(hist, "v1", "v2", "v3")
			h.set(plain, []byte("P"))
			h.appendAll(empty, "e1", "")
			m := h.missingKey("m")
			keys := []string{plain, m, hist, empty, hist, m, plain}
			want := []kv.LatestValue{latestOf("P", 1), {}, latestOf("v3", 3), latestOf("", 2),
				latestOf("v3", 3), {}, latestOf("P", 1)}
			h.wantLatestMulti(keys, want, "of histories, a plain value and a missing key, out of order and repeated")
		},
	},
	{
		name:  "LatestMulti/Empty",
		rule:  "LatestMulti of an empty key list gives an empty result and no error",
		needs: []capability{historian, multiLatest},
		run: func(h *harness) {
			h.wantLatestMulti(nil, nil, "of a nil key list")
			h.wantLatestMulti([]string{}, nil, "of an empty key list")
		},
	},
	{
		name:  "LatestMulti/ThousandKeys",
		rule:  "LatestMulti of 1,000 keys in one call works, in order, the fast path and the fallback agreeing",
		needs: []capability{historian, multiLatest},
		run: func(h *harness) {
			const n = 1000
			keys := make([]string, n)
			want := make([]kv.LatestValue, n)
			var plainKeys []string
			var plainValues [][]byte
			var histKeys []string
			for i := range keys {
				switch i % 4 {
				case 0:
					keys[i] = h.missingKey(strconv.Itoa(i))
				case 1:
					keys[i] = h.key(strconv.Itoa(i))
					want[i] = latestOf("p"+strconv.Itoa(i), 1)
					plainKeys = append(plainKeys, keys[i])
					plainValues = append(plainValues, want[i].Value)
				default:
					keys[i] = h.key(strconv.Itoa(i))
					want[i] = latestOf("h"+strconv.Itoa(i), int64(i%4))
					histKeys = append(histKeys, keys[i])
				}
			}
			h.setAll(plainKeys, plainValues)
			err := inParallel(len(histKeys), func(j int) error {
				k := histKeys[j]
				i, _ := strconv.Atoi(k[len(h.prefix):])
				for v := 1; v <= i%4; v++ {
					value := "h" + strconv.Itoa(i)
					if v < i%4 {
						value = "old"
					}
					if _, err := h.hi().Append(h.ctx, k, []byte(value)); err != nil {
						return fmt.Errorf("Append(%q): %w", k, err)
					}
				}
				return nil
			})
			h.must(err, "writing %d histories", len(histKeys))
			h.wantLatestMulti(keys, want, "of 1,000 keys: histories, plain values and missing keys")
		},
	},
}

func latestOf(value string, version int64) kv.LatestValue {
	return kv.LatestValue{Value: []byte(value), Version: version, Found: true}
}

// historianOnly hides every interface of a Historian but kv.Historian, so
// that kv.LatestMulti takes its fallback.
type historianOnly struct{ kv.Historian }

// wantLatestMulti checks that LatestMulti(keys) returns want, on the fast
// path and through kv.LatestMulti's fallback.
func (h *harness) wantLatestMulti(keys []string, want []kv.LatestValue, what string) {
	h.t.Helper()
	got, err := h.s.(kv.MultiLatest).LatestMulti(h.ctx, keys)
	h.must(err, "LatestMulti %s", what)
	h.checkLatestMulti("LatestMulti", got, want, what)
	got, err = kv.LatestMulti(h.ctx, historianOnly{h.hi()}, keys)
	h.must(err, "kv.LatestMulti's fallback %s", what)
	h.checkLatestMulti("kv.LatestMulti's fallback", got, want, what)
}

func (h *harness) checkLatestMulti(call string, got, want []kv.LatestValue, what string) {
	h.t.Helper()
	if len(got) != len(want) {
		h.errorf("%s %s returned %d results, want %d", call, what, len(got), len(want))
		return
	}
	bad := 0
	for i := range got {
		g, w := got[i], want[i]
		if g.Found == w.Found && g.Version == w.Version && bytes.Equal(g.Value, w.Value) && (g.Err == nil) == (w.Err == nil) &&
			(g.Err == nil || errors.Is(g.Err, kv.ErrWrongType)) {
			continue
		}
		if bad++; bad <= 5 {
			h.errorf("%s %s: result %d = {%s, version %d, found %v, err %v}, want {%s, version %d, found %v}",
				call, what, i, show(g.Value), g.Version, g.Found, g.Err, show(w.Value), w.Version, w.Found)
		}
	}
	if bad > 5 {
		h.errorf("%s %s: %d results wrong in all", call, what, bad)
	}
}
