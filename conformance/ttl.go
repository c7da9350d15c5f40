package conformance

import (
	"time"

	"github.com/cledar/storekit/kv"
)

// longTTL is a TTL no case outlives.
const longTTL = 10 * time.Minute

var ttlCases = []testCase{
	{
		name:  "TTL/VisibleBeforeExpiry",
		rule:  "a key written with SetWithTTL is visible to Get, GetMulti and Scan until it expires",
		needs: []capability{expirer},
		run: func(h *harness) {
			k := h.key("k")
			h.setTTL(k, []byte("v"), longTTL)
			h.wantValue(k, []byte("v"), "after SetWithTTL")
			if h.has(multiGetter) {
				h.wantMulti([]string{k}, []kv.Value{found("v")}, "after SetWithTTL")
			}
			if h.has(scanner) {
				h.wantScan(h.pattern("*"), []string{k}, "after SetWithTTL")
			}
		},
	},
	{
		name:  "TTL/Expired",
		rule:  "an expired key is invisible to Get, GetMulti, Scan and TTL, and a later Set removes an expiry",
		needs: []capability{expirer},
		run: func(h *harness) {
			short, long, cleared := h.key("short"), h.key("long"), h.key("cleared")
			h.setTTL(long, []byte("L"), longTTL)
			h.setTTL(cleared, []byte("old"), h.cfg.ttl)
			h.set(cleared, []byte("C"))
			h.setTTL(short, []byte("S"), h.cfg.ttl)
			h.sleep(h.cfg.ttl + h.cfg.ttlMargin)

			what := "after its TTL passed"
			h.wantMissing(short, what)
			h.wantValue(long, []byte("L"), "while its TTL has not passed")
			h.wantValue(cleared, []byte("C"), "after Set replaced a value with a TTL that has now passed")
			_, err := h.ex().TTL(h.ctx, short)
			h.wantErr(err, kv.ErrNotFound, "TTL(%q) %s", short, what)
			if h.has(multiGetter) {
				h.wantMulti([]string{short, long, cleared}, []kv.Value{{}, found("L"), found("C")}, "with one key expired")
			}
			if h.has(scanner) {
				h.wantScan(h.pattern("*"), []string{long, cleared}, "with one key expired")
			}
		},
	},
	{
		name:  "TTL/ReadBack",
		rule:  "TTL reports a positive duration no longer than the one set",
		needs: []capability{expirer},
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("old"))
			ttl := 10 * time.Second
			h.setTTL(k, []byte("new"), ttl)
			h.wantValue(k, []byte("new"), "after SetWithTTL replaced a plain value")
			got, err := h.ex().TTL(h.ctx, k)
			if err != nil || got <= 0 || got > ttl {
				h.errorf("TTL(%q) after SetWithTTL(_, %v) = %v, %v; want a duration in (0, %v]", k, ttl, got, err, ttl)
			}
		},
	},
	{
		name:  "TTL/NoExpiry",
		rule:  "TTL reports kv.NoExpiry for a key without expiry",
		needs: []capability{expirer},
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("v"))
			h.wantNoExpiry(k, "after Set")
		},
	},
	{
		name:  "TTL/Missing",
		rule:  "TTL of a missing key returns an error wrapping kv.ErrNotFound",
		needs: []capability{expirer},
		run: func(h *harness) {
			k := h.missingKey("k")
			got, err := h.ex().TTL(h.ctx, k)
			h.wantErr(err, kv.ErrNotFound, "TTL(%q) of a missing key (returned %v)", k, got)
		},
	},
	{
		name:  "TTL/SetClearsExpiry",
		rule:  "Set removes an expiry",
		needs: []capability{expirer},
		run: func(h *harness) {
			k := h.key("k")
			h.setTTL(k, []byte("v"), longTTL)
			h.set(k, []byte("w"))
			h.wantNoExpiry(k, "after SetWithTTL then Set")
		},
	},
	{
		name:  "TTL/Invalid",
		rule:  "SetWithTTL with a TTL of zero or less returns an error wrapping kv.ErrInvalid and writes nothing",
		needs: []capability{expirer},
		run: func(h *harness) {
			missing, existing := h.key("missing"), h.key("existing")
			h.set(existing, []byte("old"))
			for _, ttl := range []time.Duration{0, -time.Second, kv.NoExpiry} {
				for _, k := range []string{missing, existing} {
					err := h.ex().SetWithTTL(h.ctx, k, []byte("new"), ttl)
					h.wantErr(err, kv.ErrInvalid, "SetWithTTL(%q, _, %v)", k, ttl)
				}
			}
			h.wantMissing(missing, "after SetWithTTL with a TTL <= 0 was rejected")
			h.wantValue(existing, []byte("old"), "after SetWithTTL with a TTL <= 0 was rejected")
			h.wantNoExpiry(existing, "after SetWithTTL with a TTL <= 0 was rejected")
		},
	},
}

// setTTL calls SetWithTTL, ending the case if it fails.
func (h *harness) setTTL(key string, value []byte, ttl time.Duration) {
	h.t.Helper()
	h.must(h.ex().SetWithTTL(h.ctx, key, value, ttl), "SetWithTTL(%q, %s, %v)", key, show(value), ttl)
}

// wantNoExpiry checks that TTL(key) reports kv.NoExpiry.
func (h *harness) wantNoExpiry(key, what string) {
	h.t.Helper()
	got, err := h.ex().TTL(h.ctx, key)
	if err != nil || got != kv.NoExpiry {
		h.errorf("TTL(%q) %s = %v, %v; want kv.NoExpiry (%v), nil", key, what, got, err, kv.NoExpiry)
	}
}

// wantTTLWithin checks that TTL(key) reports a duration in (0, max].
func (h *harness) wantTTLWithin(key string, max time.Duration, what string) {
	h.t.Helper()
	got, err := h.ex().TTL(h.ctx, key)
	if err != nil || got <= 0 || got > max {
		h.errorf("TTL(%q) %s = %v, %v; want a duration in (0, %v]", key, what, got, err, max)
	}
}
