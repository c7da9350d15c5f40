package conformance

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/cledar/storekit/kv"
)

var bulkCases = []testCase{
	{
		name:  "Bulk/OrderAndMissing",
		rule:  "GetMulti returns one result per key, in the order of the keys, with Found false for missing keys",
		needs: []capability{multiGetter},
		run: func(h *harness) {
			a, b, c := h.key("a"), h.key("b"), h.key("c")
			h.set(a, []byte("A"))
			h.set(b, []byte("B"))
			h.set(c, []byte("C"))
			h.wantMulti([]string{c, h.missingKey("x"), a, b, h.missingKey("y")},
				[]kv.Value{found("C"), {}, found("A"), found("B"), {}}, "of keys out of order")
		},
	},
	{
		name:  "Bulk/Duplicates",
		rule:  "GetMulti keeps duplicate keys: one result per key given",
		needs: []capability{multiGetter},
		run: func(h *harness) {
			a, m := h.key("a"), h.missingKey("m")
			h.set(a, []byte("A"))
			h.wantMulti([]string{a, a, m, a, m}, []kv.Value{found("A"), found("A"), {}, found("A"), {}},
				"of repeated keys")
		},
	},
	{
		name:  "Bulk/Empty",
		rule:  "GetMulti of an empty key list gives an empty result and no error",
		needs: []capability{multiGetter},
		run: func(h *harness) {
			h.wantMulti(nil, nil, "of a nil key list")
			h.wantMulti([]string{}, nil, "of an empty key list")
		},
	},
	{
		name:  "Bulk/BinaryValues",
		rule:  "GetMulti returns values byte for byte, an empty value with Found true",
		needs: []capability{multiGetter},
		run: func(h *harness) {
			var keys []string
			var want []kv.Value
			for name, v := range binaryValues() {
				k := h.key(name)
				h.set(k, v)
				keys = append(keys, k)
				want = append(want, kv.Value{Data: v, Found: true})
			}
			h.wantMulti(keys, want, "of binary values")
		},
	},
	{
		name:  "Bulk/TenThousandKeys",
		rule:  "GetMulti of 10,000 keys in one call works, in order, with missing keys marked",
		needs: []capability{multiGetter},
		run: func(h *harness) {
			const n = 10000
			keys := make([]string, n)
			want := make([]kv.Value, n)
			var written []string
			var values [][]byte
			for i := range keys {
				if i%3 == 2 {
					keys[i] = h.missingKey(strconv.Itoa(i))
					continue
				}
				keys[i] = h.key(strconv.Itoa(i))
				want[i] = found("v" + strconv.Itoa(i))
				written = append(written, keys[i])
				values = append(values, want[i].Data)
			}
			h.setAll(written, values)
			h.wantMultiFast(keys, want, "of 10,000 keys, every third missing")
			// The fallback, a Get per key, agrees on a tenth of them: its
			// 10,000 round trips one after another would make the case's
			// time that of the server's latency, not of the store's bulk read.
			h.wantMulti(keys[:n/10], want[:n/10], "of the first 1,000 of those keys")
		},
	},
	{
		name:  "Bulk/History",
		rule:  "GetMulti reports a key that holds a history, not a plain value, with Found false",
		needs: []capability{multiGetter, historian},
		run: func(h *harness) {
			plain, hist := h.key("plain"), h.key("hist")
			h.set(plain, []byte("P"))
			h.append(hist, "H")
			h.wantMulti([]string{hist, plain}, []kv.Value{{}, found("P")}, "of a history and a plain value")
		},
	},
	{
		name:  "Bulk/CopyOut",
		rule:  "GetMulti returns copies: changing a returned value never changes what the store holds",
		needs: []capability{multiGetter},
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("original"))
			vals, err := h.mg().GetMulti(h.ctx, []string{k, k})
			h.must(err, "GetMulti(%q)", []string{k, k})
			if len(vals) != 2 || !vals[0].Found {
				h.fatalf("GetMulti(%q) returned %d results, the first with Found %v; want two found values",
					[]string{k, k}, len(vals), len(vals) > 0 && vals[0].Found)
			}
			copy(vals[0].Data, "XXXXXXXX")
			h.wantValue(k, []byte("original"), "after changing a value GetMulti returned")
		},
	},
}

func found(s string) kv.Value { return kv.Value{Data: []byte(s), Found: true} }

// storeOnly hides every optional interface of a store, so that kv.GetMulti
// takes its fallback.
type storeOnly struct{ kv.Store }

// wantMulti checks GetMulti(keys) against want, then checks that the
// kv.GetMulti fallback (Get per key) gives the same.
func (h *harness) wantMulti(keys []string, want []kv.Value, what string) {
	h.t.Helper()
	h.wantMultiFast(keys, want, what)
	got, err := kv.GetMulti(h.ctx, storeOnly{h.s}, keys)
	if err != nil {
		h.errorf("kv.GetMulti fallback (Get per key) %s (%d keys): got err %v", what, len(keys), err)
	} else if problem := compareValues(keys, got, want); problem != "" {
		h.errorf("kv.GetMulti fallback (Get per key) %s, unlike the fast path: %s", what, problem)
	}
}

// wantMultiFast checks that the store's GetMulti returns want for keys.
func (h *harness) wantMultiFast(keys []string, want []kv.Value, what string) {
	h.t.Helper()
	got, err := h.mg().GetMulti(h.ctx, keys)
	if err != nil {
		h.errorf("GetMulti %s (%d keys): got err %v", what, len(keys), err)
	} else if problem := compareValues(keys, got, want); problem != "" {
		h.errorf("GetMulti %s: %s", what, problem)
	}
}

// compareValues describes how got differs from want, or returns "".
func compareValues(keys []string, got, want []kv.Value) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %d results for %d keys, want %d", len(got), len(keys), len(want))
	}
	var problems []string
	for i := range want {
		g, w := got[i], want[i]
		switch {
		case g.Found != w.Found:
			problems = append(problems, fmt.Sprintf("result %d (key %q): Found = %v, want %v", i, keys[i], g.Found, w.Found))
		case w.Found && !bytes.Equal(g.Data, w.Data):
			problems = append(problems, fmt.Sprintf("result %d (key %q): %s", i, keys[i], diff(g.Data, w.Data)))
		}
	}
	if len(problems) == 0 {
		return ""
	}
	if n := len(problems); n > 3 {
		problems = append(problems[:3], fmt.Sprintf("and %d more", n-3))
	}
	return strings.Join(problems, "; ")
}
