package conformance

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cledar/storekit/kv"
)

var bulkWriteCases = []testCase{
	{
		name:  "BulkWrite/SetMulti",
		rule:  "SetMulti stores every item, byte for byte, replacing what the keys held",
		needs: []capability{bulkWriter},
		run: func(h *harness) {
			old := h.key("old")
			h.set(old, []byte("before"))
			vals := binaryValues()
			var items []kv.Item
			for name, v := range vals {
				items = append(items, kv.Item{Key: h.key(name), Value: v})
			}
			items = append(items, kv.Item{Key: old, Value: []byte("after")})
			h.wantSetMulti(items, "of binary values and an existing key")
			for name, v := range vals {
				h.wantValue(h.key(name), v, "after SetMulti")
			}
			h.wantValue(old, []byte("after"), "after SetMulti over an existing key")
		},
	},
	{
		name: "BulkWrite/CopyIn",
		rule: "SetMulti stores copies: changing the values' slices once it returns never changes what the store holds, " +
			"whatever becomes of its context: cancelled while the call ran (which may cut it short) or after",
		needs: []capability{bulkWriter},
		run: func(h *harness) {
			a, b := h.key("a"), h.key("b")
			v := []byte("original")
			h.wantSetMulti([]kv.Item{{Key: a, Value: v}, {Key: b, Value: v}}, "of two keys")
			copy(v, "XXXXXXXX")
			h.wantValues([]string{a, b}, []kv.Value{{Data: []byte("original"), Found: true}, {Data: []byte("original"), Found: true}},
				"after changing the slice passed to SetMulti")
			// Calls whose context is cancelled as they start (which may cut
			// them short) or once they returned, each value changed as soon
			// as its call returns. The keys hold the value given or nothing,
			// never the bytes changed after the call.
			const calls = 16
			keys := h.numberedKeys("cut:", 2*calls) // keys 2i and 2i+1 are call i's
			h.reportProblems(concurrently(calls, func(i int) string {
				v := []byte("original")
				ctx, cancel := context.WithCancel(h.ctx)
				done := make(chan error, 1)
				go func() {
					done <- h.bw().SetMulti(ctx, []kv.Item{{Key: keys[2*i], Value: v}, {Key: keys[2*i+1], Value: v}})
				}()
				if i%2 == 0 {
					cancel()
				}
				<-done
				cancel()
				copy(v, "XXXXXXXX")
				return ""
			}))
			for _, k := range keys {
				got, err := h.s.Get(h.ctx, k)
				switch {
				case errors.Is(err, kv.ErrNotFound):
				case err != nil:
					h.errorf("Get(%q) after a SetMulti whose context was cancelled: %v", k, err)
				case string(got) != "original":
					h.errorf("Get(%q) = %q after a SetMulti whose context was cancelled, want %q or no value: the store wrote bytes the caller changed after the call returned",
						k, got, "original")
				}
			}
		},
	},
	{
		name:  "BulkWrite/Duplicates",
		rule:  "when SetMulti lists a key more than once, the last item wins",
		needs: []capability{bulkWriter},
		run: func(h *harness) {
			a, b := h.key("a"), h.key("b")
			h.wantSetMulti([]kv.Item{{Key: a, Value: []byte("1")}, {Key: b, Value: []byte("1")},
				{Key: a, Value: []byte("2")}, {Key: a, Value: []byte("3")}}, "of a key listed three times")
			h.wantValue(a, []byte("3"), "after SetMulti listing it three times, last with \"3\"")
			h.wantValue(b, []byte("1"), "after SetMulti")
		},
	},
	{
		name: "BulkWrite/TTL",
		rule: "SetMulti writes an item with a TTL as SetWithTTL does and one without as Set does (removing an expiry); " +
			"for a key listed twice the last item's TTL wins",
		needs: []capability{bulkWriter, expirer},
		run: func(h *harness) {
			t, cleared, lastPlain, lastTTL := h.key("ttl"), h.key("cleared"), h.key("lastPlain"), h.key("lastTTL")
			ttl := 10 * time.Second
			h.setTTL(cleared, []byte("old"), longTTL)
			h.wantSetMulti([]kv.Item{
				{Key: t, Value: []byte("t"), TTL: ttl},
				{Key: cleared, Value: []byte("c")},
				{Key: lastPlain, Value: []byte("1"), TTL: longTTL},
				{Key: lastPlain, Value: []byte("2")},
				{Key: lastTTL, Value: []byte("1")},
				{Key: lastTTL, Value: []byte("2"), TTL: ttl},
			}, "of items with and without TTLs")
			h.wantValue(t, []byte("t"), "after SetMulti")
			h.wantTTLWithin(t, ttl, fmt.Sprintf("after SetMulti of an item with TTL %v", ttl))
			h.wantNoExpiry(cleared, "after SetMulti of an item without TTL over a key with an expiry")
			h.wantValue(lastPlain, []byte("2"), "after SetMulti")
			h.wantNoExpiry(lastPlain, "after SetMulti whose last item for the key has no TTL")
			h.wantValue(lastTTL, []byte("2"), "after SetMulti")
			h.wantTTLWithin(lastTTL, ttl, "after SetMulti whose last item for the key has a TTL")
		},
	},
	{
		name:  "BulkWrite/InvalidTTL",
		rule:  "SetMulti with an item with a negative TTL returns an error wrapping kv.ErrInvalid and writes nothing",
		needs: []capability{bulkWriter},
		run: func(h *harness) {
			a, existing, c := h.key("a"), h.key("existing"), h.key("c")
			h.set(existing, []byte("old"))
			for _, ttl := range []time.Duration{-time.Second, -time.Nanosecond} {
				err := h.bw().SetMulti(h.ctx, []kv.Item{{Key: a, Value: []byte("new")}, {Key: existing, Value: []byte("new")},
					{Key: h.key("bad"), Value: []byte("new"), TTL: ttl}, {Key: c, Value: []byte("new")}})
				h.wantErr(err, kv.ErrInvalid, "SetMulti with the third of four items with TTL %v", ttl)
			}
			what := "after SetMulti with an item with a negative TTL was rejected"
			h.wantMissing(a, what)
			h.wantMissing(h.key("bad"), what)
			h.wantMissing(c, what)
			h.wantValue(existing, []byte("old"), what)
		},
	},
	{
		name:  "BulkWrite/ThousandKeys",
		rule:  "SetMulti of 1,000 items and DeleteMulti of their 1,000 keys work in one call each",
		needs: []capability{bulkWriter},
		run: func(h *harness) {
			const n = 1000
			items := make([]kv.Item, n)
			keys := make([]string, n)
			want := make([]kv.Value, n)
			for i := range items {
				keys[i] = h.key(strconv.Itoa(i))
				items[i] = kv.Item{Key: keys[i], Value: []byte("v" + strconv.Itoa(i))}
				want[i] = kv.Value{Data: items[i].Value, Found: true}
			}
			h.wantSetMulti(items, "of 1,000 items")
			h.wantValues(keys, want, "after SetMulti of 1,000 items")
			h.wantDeleteMulti(keys, n, "of 1,000 keys")
			h.wantValues(keys, make([]kv.Value, n), "after DeleteMulti of 1,000 keys")
		},
	},
	{
		name:  "BulkWrite/Empty",
		rule:  "SetMulti of no items and DeleteMulti of no keys do nothing and return no error",
		needs: []capability{bulkWriter},
		run: func(h *harness) {
			h.wantSetMulti(nil, "of a nil list")
			h.wantSetMulti([]kv.Item{}, "of an empty list")
			h.wantDeleteMulti(nil, 0, "of a nil list")
			h.wantDeleteMulti([]string{}, 0, "of an empty list")
		},
	},
	{
		name:  "BulkWrite/OverwritesHistory",
		rule:  "SetMulti replaces a history with a plain value, as Set does",
		needs: []capability{bulkWriter, historian},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2")
			h.wantSetMulti([]kv.Item{{Key: k, Value: []byte("plain")}}, "over a history")
			h.wantValue(k, []byte("plain"), "after SetMulti over a history")
			h.wantLatest(k, "plain", 1, "after SetMulti over a history")
		},
	},
	{
		name: "BulkWrite/DeleteMulti",
		rule: "DeleteMulti removes every listed key that exists, whatever it holds, and returns how many it removed, " +
			"a key listed twice counted once",
		needs: []capability{bulkWriter},
		run: func(h *harness) {
			a, b, c := h.key("a"), h.key("b"), h.key("c")
			h.set(a, []byte("A"))
			h.set(b, []byte{})
			h.set(c, []byte("C"))
			m := h.missingKey("m")
			h.wantDeleteMulti([]string{a, m, b, a, m, b}, 2, "of two keys listed twice and a missing key")
			h.wantMissing(a, "after DeleteMulti")
			h.wantMissing(b, "after DeleteMulti")
			h.wantValue(c, []byte("C"), "after DeleteMulti of other keys")
			h.wantDeleteMulti([]string{a, b}, 0, "of keys already deleted")
			if h.has(historian) {
				hist := h.key("hist")
				h.appendAll(hist, "v1", "v2")
				h.wantDeleteMulti([]string{hist, c}, 2, "of a history and a plain value")
				_, _, err := h.hi().Latest(h.ctx, hist)
				h.wantErr(err, kv.ErrNotFound, "Latest(%q) after DeleteMulti", hist)
				h.wantMissing(c, "after DeleteMulti")
			}
		},
	},
	{
		name: "BulkWrite/Helpers",
		rule: "kv.SetMulti and kv.DeleteMulti give the same results whether they take the store's kv.BulkWriter " +
			"or their fallback of one write at a time",
		needs: []capability{bulkWriter},
		run: func(h *harness) {
			var fallback kv.Store = storeOnly{h.s}
			if h.has(expirer) {
				fallback = expirerOnly{h.s, h.ex()}
			}
			paths := []struct {
				name   string
				set    func(context.Context, []kv.Item) error
				delete func(context.Context, []string) (int, error)
			}{
				{"BulkWriter", h.bw().SetMulti, h.bw().DeleteMulti},
				{"kv.SetMulti and kv.DeleteMulti (fast path)",
					func(ctx context.Context, items []kv.Item) error { return kv.SetMulti(ctx, h.s, items) },
					func(ctx context.Context, keys []string) (int, error) { return kv.DeleteMulti(ctx, h.s, keys) }},
				{"kv.SetMulti and kv.DeleteMulti (fallback)",
					func(ctx context.Context, items []kv.Item) error { return kv.SetMulti(ctx, fallback, items) },
					func(ctx context.Context, keys []string) (int, error) { return kv.DeleteMulti(ctx, fallback, keys) }},
			}
			for i, p := range paths {
				a, b, c := h.key(fmt.Sprint(i, ":a")), h.key(fmt.Sprint(i, ":b")), h.key(fmt.Sprint(i, ":c"))
				if err := p.set(h.ctx, []kv.Item{{Key: a, Value: []byte("1")}, {Key: b, Value: []byte("1")}, {Key: a, Value: []byte("2")}}); err != nil {
					h.errorf("%s: SetMulti of a key listed twice: unexpected error: %v", p.name, err)
				}
				h.wantValue(a, []byte("2"), p.name+": after SetMulti listing it twice, last with \"2\"")
				h.wantValue(b, []byte("1"), p.name+": after SetMulti")
				err := p.set(h.ctx, []kv.Item{{Key: c, Value: []byte("1")}, {Key: b, Value: []byte("2"), TTL: -time.Second}})
				h.wantErr(err, kv.ErrInvalid, "%s: SetMulti with an item with a negative TTL", p.name)
				h.wantMissing(c, p.name+": after SetMulti with an item with a negative TTL")
				h.wantValue(b, []byte("1"), p.name+": after SetMulti with an item with a negative TTL")
				if h.has(expirer) {
					ttl := 10 * time.Second
					if err := p.set(h.ctx, []kv.Item{{Key: c, Value: []byte("3"), TTL: ttl}}); err != nil {
						h.errorf("%s: SetMulti of an item with TTL %v: unexpected error: %v", p.name, ttl, err)
					}
					h.wantTTLWithin(c, ttl, fmt.Sprintf("%s: after SetMulti of an item with TTL %v", p.name, ttl))
				}
				if n, err := p.delete(h.ctx, []string{a, h.missingKey("m"), a, b}); err != nil || n != 2 {
					h.errorf("%s: DeleteMulti of two keys, one listed twice, and a missing key = %d, %v; want 2, nil", p.name, n, err)
				}
				h.wantMissing(a, p.name+": after DeleteMulti")
				h.wantMissing(b, p.name+": after DeleteMulti")
			}
		},
	},
	{
		name: "BulkWrite/Events",
		rule: "SetMulti is reported per key as Set or SetWithTTL is, a key listed twice once, for its last item; " +
			"DeleteMulti as OpDelete for each key removed; a rejected SetMulti is not reported",
		needs: []capability{bulkWriter, watcher},
		run: func(h *harness) {
			a, b := h.key("a"), h.key("b")
			w := h.watch(h.pattern("*"))
			w.expectResync()
			err := h.bw().SetMulti(h.ctx, []kv.Item{{Key: a, Value: []byte("x")}, {Key: b, Value: []byte("x"), TTL: -time.Second}})
			h.wantErr(err, kv.ErrInvalid, "SetMulti with an item with a negative TTL")
			items := []kv.Item{{Key: a, Value: []byte("0")}, {Key: b, Value: []byte("1")}, {Key: a, Value: []byte("1")}}
			wantB := []kv.Op{kv.OpSet}
			if h.has(expirer) {
				items[1].TTL = longTTL
				wantB = append(wantB, kv.OpExpire)
			}
			h.wantSetMulti(items, "")
			h.wantDeleteMulti([]string{a, b, h.missingKey("m"), a}, 2, "")
			w.expectAll(h.cfg.eventTimeout, "after SetMulti and DeleteMulti",
				map[string][]kv.Op{a: {kv.OpSet, kv.OpDelete}, b: append(wantB, kv.OpDelete)})
		},
	},
}

// expirerOnly hides every optional interface of a store but kv.Expirer, so
// that kv.SetMulti and kv.DeleteMulti take their fallback and can still
// write items with a TTL.
type expirerOnly struct {
	kv.Store
	kv.Expirer
}

// wantSetMulti checks that SetMulti(items) succeeds; what says when.
func (h *harness) wantSetMulti(items []kv.Item, what string) {
	h.t.Helper()
	if err := h.bw().SetMulti(h.ctx, items); err != nil {
		h.errorf("SetMulti of %d items %s: unexpected error: %v", len(items), what, err)
	}
}

// wantDeleteMulti checks that DeleteMulti(keys) removes want keys.
func (h *harness) wantDeleteMulti(keys []string, want int, what string) {
	h.t.Helper()
	got, err := h.bw().DeleteMulti(h.ctx, keys)
	if err != nil || got != want {
		h.errorf("DeleteMulti of %d keys %s = %d, %v; want %d, nil", len(keys), what, got, err, want)
	}
}

// wantValues checks the values of keys, with kv.GetMulti.
func (h *harness) wantValues(keys []string, want []kv.Value, what string) {
	h.t.Helper()
	got, err := kv.GetMulti(h.ctx, h.s, keys)
	if err != nil {
		h.errorf("kv.GetMulti of %d keys %s: unexpected error: %v", len(keys), what, err)
	} else if problem := compareValues(keys, got, want); problem != "" {
		h.errorf("kv.GetMulti %s: %s", what, problem)
	}
}
