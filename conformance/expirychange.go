package conformance

import (
	"bytes"
	"fmt"
	"time"

	"github.com/cledar/storekit/kv"
)

var expiryChangeCases = []testCase{
	{
		name: "ExpiryChange/Expire",
		rule: "Expire gives an existing key a new expiry, longer or shorter, and reports true; " +
			"of a missing key it reports false and creates nothing",
		needs: []capability{expiryChanger},
		run: func(h *harness) {
			plain, long, missing := h.key("plain"), h.key("long"), h.missingKey("k")
			ttl := 10 * time.Second
			h.set(plain, []byte("v"))
			h.wantExpire(plain, ttl, true, "of a key without expiry")
			h.wantTTLWithin(plain, ttl, fmt.Sprintf("after Expire(_, %v)", ttl))
			h.wantValue(plain, []byte("v"), "after Expire")

			h.setTTL(long, []byte("v"), longTTL)
			h.wantExpire(long, ttl, true, fmt.Sprintf("of a key with TTL %v", longTTL))
			h.wantTTLWithin(long, ttl, fmt.Sprintf("after Expire(_, %v) of a key with TTL %v", ttl, longTTL))
			h.wantExpire(long, longTTL, true, fmt.Sprintf("of a key with TTL %v", ttl))
			if got, err := h.ex().TTL(h.ctx, long); err != nil || got <= ttl || got > longTTL {
				h.errorf("TTL(%q) after Expire(_, %v) of a key with TTL %v = %v, %v; want a duration in (%v, %v]",
					long, longTTL, ttl, got, err, ttl, longTTL)
			}

			h.wantExpire(missing, ttl, false, "of a missing key")
			h.wantMissing(missing, "after Expire of a missing key")
			_, err := h.ex().TTL(h.ctx, missing)
			h.wantErr(err, kv.ErrNotFound, "TTL(%q) after Expire of a missing key", missing)
		},
	},
	{
		name: "ExpiryChange/Expires",
		rule: "a key given an expiry by Expire, a plain value or a history, expires then: " +
			"it is missing, and Expire, Persist and GetWithTTL report it missing",
		needs: []capability{expiryChanger},
		run: func(h *harness) {
			plain, hist := h.key("plain"), h.key("hist")
			h.set(plain, []byte("v"))
			h.wantExpire(plain, h.cfg.ttl, true, "of a plain value")
			if h.has(historian) {
				h.appendAll(hist, "v1", "v2")
				h.wantExpire(hist, h.cfg.ttl, true, "of a history")
				h.wantTTLWithin(hist, h.cfg.ttl, "of a history after Expire")
				h.wantHistory(hist, "after Expire", "v1", "v2")
			}
			h.sleep(h.cfg.ttl + h.cfg.ttlMargin)

			what := "after the TTL Expire gave it passed"
			h.wantMissing(plain, what)
			v, ttl, err := h.ec().GetWithTTL(h.ctx, plain)
			h.wantErr(err, kv.ErrNotFound, "GetWithTTL(%q) %s (returned %s, %v)", plain, what, show(v), ttl)
			h.wantExpire(plain, longTTL, false, what)
			h.wantPersist(plain, false, what)
			h.wantMissing(plain, "after Expire and Persist of an expired key")
			if h.has(historian) {
				_, _, err := h.hi().Latest(h.ctx, hist)
				h.wantErr(err, kv.ErrNotFound, "Latest(%q) of a history %s", hist, what)
			}
		},
	},
	{
		name: "ExpiryChange/Persist",
		rule: "Persist removes an expiry and reports whether the key exists, whether or not it had an expiry; " +
			"TTL then reports kv.NoExpiry",
		needs: []capability{expiryChanger},
		run: func(h *harness) {
			k, plain, missing := h.key("k"), h.key("plain"), h.missingKey("k")
			h.setTTL(k, []byte("v"), longTTL)
			h.wantPersist(k, true, "of a key with an expiry")
			h.wantNoExpiry(k, "after Persist")
			h.wantValue(k, []byte("v"), "after Persist")
			h.wantPersist(k, true, "of a key whose expiry Persist removed")
			h.set(plain, []byte("v"))
			h.wantPersist(plain, true, "of a key without expiry")
			h.wantNoExpiry(plain, "after Persist of a key without expiry")
			h.wantPersist(missing, false, "of a missing key")
			h.wantMissing(missing, "after Persist of a missing key")
			if h.has(historian) {
				hist := h.key("hist")
				h.appendAll(hist, "v1")
				h.wantExpire(hist, longTTL, true, "of a history")
				h.wantPersist(hist, true, "of a history with an expiry")
				h.wantNoExpiry(hist, "of a history after Persist")
				h.wantHistory(hist, "after Expire and Persist", "v1")
			}
		},
	},
	{
		name:  "ExpiryChange/Invalid",
		rule:  "Expire with a TTL of zero or less returns an error wrapping kv.ErrInvalid and changes nothing",
		needs: []capability{expiryChanger},
		run: func(h *harness) {
			plain, long, missing := h.key("plain"), h.key("long"), h.missingKey("k")
			h.set(plain, []byte("p"))
			h.setTTL(long, []byte("l"), longTTL)
			for _, ttl := range []time.Duration{0, -time.Second, kv.NoExpiry} {
				for _, k := range []string{plain, long, missing} {
					ok, err := h.ec().Expire(h.ctx, k, ttl)
					h.wantErr(err, kv.ErrInvalid, "Expire(%q, %v) (returned %v)", k, ttl, ok)
				}
			}
			what := "after Expire with a TTL <= 0 was rejected"
			h.wantValue(plain, []byte("p"), what)
			h.wantNoExpiry(plain, what)
			h.wantValue(long, []byte("l"), what)
			h.wantTTLWithin(long, longTTL, what)
			h.wantMissing(missing, what)
		},
	},
	{
		name: "ExpiryChange/GetWithTTL",
		rule: "GetWithTTL returns the value and the time it has left (kv.NoExpiry if none) as they are now, " +
			"kv.ErrNotFound for a missing key and kv.ErrWrongType for a history",
		needs: []capability{expiryChanger},
		run: func(h *harness) {
			k, empty := h.key("k"), h.key("empty")
			ttl := 10 * time.Second
			h.setTTL(k, []byte("a"), longTTL)
			h.wantGetWithTTL(k, "a", longTTL, "after SetWithTTL")
			h.set(k, []byte("b"))
			h.wantGetWithTTL(k, "b", kv.NoExpiry, "after Set replaced a value with an expiry")
			h.wantExpire(k, ttl, true, "of a key without expiry")
			h.wantGetWithTTL(k, "b", ttl, "after Expire")
			h.wantPersist(k, true, "of a key with an expiry")
			h.wantGetWithTTL(k, "b", kv.NoExpiry, "after Persist")
			all := binaryValues()["all-bytes"]
			h.setTTL(k, all, ttl)
			h.wantGetWithTTL(k, string(all), ttl, "of a binary value")

			h.set(empty, []byte{})
			v, got, err := h.ec().GetWithTTL(h.ctx, empty)
			if err != nil || v == nil || len(v) != 0 || got != kv.NoExpiry {
				h.errorf("GetWithTTL(%q) of an empty value = %s, %v, %v; want a non-nil empty value, kv.NoExpiry, nil", empty, show(v), got, err)
			}

			missing := h.missingKey("k")
			v, got, err = h.ec().GetWithTTL(h.ctx, missing)
			h.wantErr(err, kv.ErrNotFound, "GetWithTTL(%q) of a missing key (returned %s, %v)", missing, show(v), got)
			if h.has(historian) {
				hist := h.key("hist")
				h.appendAll(hist, "v1")
				v, got, err := h.ec().GetWithTTL(h.ctx, hist)
				h.wantErr(err, kv.ErrWrongType, "GetWithTTL(%q) of a history (returned %s, %v)", hist, show(v), got)
			}
		},
	},
	{
		name: "ExpiryChange/Events",
		rule: "Expire of an existing key is reported as OpExpire, Persist that removed an expiry as OpOther; " +
			"Expire of a missing key, a rejected Expire, Persist of a key without expiry and GetWithTTL are not reported",
		needs: []capability{expiryChanger, watcher},
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("v"))
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.wantExpire(h.missingKey("k"), longTTL, false, "of a missing key")
			h.wantPersist(h.missingKey("k"), false, "of a missing key")
			h.wantPersist(k, true, "of a key without expiry")
			_, err := h.ec().Expire(h.ctx, k, 0)
			h.wantErr(err, kv.ErrInvalid, "Expire(%q, 0)", k)
			_, _, err = h.ec().GetWithTTL(h.ctx, k)
			h.must(err, "GetWithTTL(%q)", k)
			h.wantExpire(k, longTTL, true, "of an existing key")
			h.wantGetWithTTL(k, "v", longTTL, "after Expire")
			h.wantPersist(k, true, "of a key with an expiry")
			h.wantPersist(k, true, "of a key whose expiry Persist removed")
			h.del(k)
			w.expect("after Expire, Persist and GetWithTTL calls, some of which changed nothing",
				k, kv.OpExpire, kv.OpOther, kv.OpDelete)
		},
	},
}

// wantExpire checks what Expire(key, ttl) reports; what says when.
func (h *harness) wantExpire(key string, ttl time.Duration, want bool, what string) {
	h.t.Helper()
	got, err := h.ec().Expire(h.ctx, key, ttl)
	if err != nil || got != want {
		h.errorf("Expire(%q, %v) %s = %v, %v; want %v, nil", key, ttl, what, got, err, want)
	}
}

// wantPersist checks what Persist(key) reports; what says when.
func (h *harness) wantPersist(key string, want bool, what string) {
	h.t.Helper()
	got, err := h.ec().Persist(h.ctx, key)
	if err != nil || got != want {
		h.errorf("Persist(%q) %s = %v, %v; want %v, nil", key, what, got, err, want)
	}
}

// wantGetWithTTL checks that GetWithTTL(key) returns want and, when
// maxTTL is kv.NoExpiry, kv.NoExpiry, or else a TTL in (0, maxTTL].
func (h *harness) wantGetWithTTL(key, want string, maxTTL time.Duration, what string) {
	h.t.Helper()
	v, ttl, err := h.ec().GetWithTTL(h.ctx, key)
	wantTTL := fmt.Sprintf("a TTL in (0, %v]", maxTTL)
	ttlOK := ttl > 0 && ttl <= maxTTL
	if maxTTL == kv.NoExpiry {
		wantTTL, ttlOK = "kv.NoExpiry", ttl == kv.NoExpiry
	}
	if err != nil || !bytes.Equal(v, []byte(want)) || !ttlOK {
		h.errorf("GetWithTTL(%q) %s = %s, %v, %v; want %s, %s, nil", key, what, show(v), ttl, err, show([]byte(want)), wantTTL)
	}
}
