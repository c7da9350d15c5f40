package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cledar/storekit/kv"
)

// Contention: how many goroutines race, in how many rounds, and how many
// read-modify-writes each makes in the counting cases.
const (
	racers     = 8
	raceRounds = 10
	increments = 50
)

var conditionalCases = []testCase{
	{
		name: "Conditional/SetIfAbsent",
		rule: "SetIfAbsent writes only when the key does not exist, and reports whether it did; " +
			"a plain value (even an empty one) and a history exist",
		needs: []capability{conditional},
		run: func(h *harness) {
			k, empty, bin := h.key("k"), h.key("empty"), h.key("binary")
			h.wantSetIfAbsent(k, []byte("first"), 0, true, "of a missing key")
			h.wantValue(k, []byte("first"), "after SetIfAbsent of a missing key")
			h.wantSetIfAbsent(k, []byte("second"), 0, false, "of an existing key")
			h.wantValue(k, []byte("first"), "after SetIfAbsent of an existing key")
			h.del(k)
			h.wantSetIfAbsent(k, []byte("third"), 0, true, "of a deleted key")
			h.wantValue(k, []byte("third"), "after SetIfAbsent of a deleted key")

			h.set(empty, []byte{})
			h.wantSetIfAbsent(empty, []byte("x"), 0, false, "of a key holding an empty value")
			h.wantValue(empty, []byte{}, "after SetIfAbsent of a key holding an empty value")

			all := binaryValues()["all-bytes"]
			h.wantSetIfAbsent(bin, all, 0, true, "of a binary value")
			h.wantValue(bin, all, "after SetIfAbsent of a binary value")

			if h.has(historian) {
				hist := h.key("hist")
				h.appendAll(hist, "v1", "v2")
				h.wantSetIfAbsent(hist, []byte("plain"), 0, false, "of a key holding a history")
				h.wantHistory(hist, "after SetIfAbsent of a key holding a history", "v1", "v2")
			}
		},
	},
	{
		name: "Conditional/SetIfAbsentTTL",
		rule: "SetIfAbsent with a positive TTL gives the new key that expiry, with zero none; " +
			"a negative TTL returns an error wrapping kv.ErrInvalid and writes nothing",
		needs: []capability{conditional, expirer},
		run: func(h *harness) {
			withTTL, without, bad, existing := h.key("ttl"), h.key("none"), h.key("bad"), h.key("existing")
			ttl := 10 * time.Second
			h.wantSetIfAbsent(withTTL, []byte("v"), ttl, true, "of a missing key")
			h.wantTTLWithin(withTTL, ttl, fmt.Sprintf("after SetIfAbsent(_, _, %v)", ttl))
			h.wantSetIfAbsent(withTTL, []byte("w"), 0, false, "of a key with an expiry")
			h.wantTTLWithin(withTTL, ttl, "after a SetIfAbsent that did not write")
			h.wantValue(withTTL, []byte("v"), "after a SetIfAbsent that did not write")

			h.wantSetIfAbsent(without, []byte("v"), 0, true, "of a missing key")
			h.wantNoExpiry(without, "after SetIfAbsent(_, _, 0)")

			h.set(existing, []byte("old"))
			for _, k := range []string{bad, existing} {
				for _, ttl := range []time.Duration{-time.Second, -time.Nanosecond} {
					ok, err := h.co().SetIfAbsent(h.ctx, k, []byte("new"), ttl)
					h.wantErr(err, kv.ErrInvalid, "SetIfAbsent(%q, _, %v) (returned %v)", k, ttl, ok)
				}
			}
			h.wantMissing(bad, "after SetIfAbsent with a negative TTL was rejected")
			h.wantValue(existing, []byte("old"), "after SetIfAbsent with a negative TTL was rejected")
			h.wantNoExpiry(existing, "after SetIfAbsent with a negative TTL was rejected")
		},
	},
	{
		name:  "Conditional/SetIfAbsentExpired",
		rule:  "an expired key does not exist: SetIfAbsent writes it",
		needs: []capability{conditional, expirer},
		run: func(h *harness) {
			k := h.key("k")
			h.setTTL(k, []byte("old"), h.cfg.ttl)
			h.sleep(h.cfg.ttl + h.cfg.ttlMargin)
			h.wantSetIfAbsent(k, []byte("new"), 0, true, "of a key whose TTL has passed")
			h.wantValue(k, []byte("new"), "after SetIfAbsent of a key whose TTL had passed")
			h.wantNoExpiry(k, "after SetIfAbsent(_, _, 0) of a key whose TTL had passed")
		},
	},
	{
		name: "Conditional/SetIfAbsentRace",
		rule: fmt.Sprintf("of %d concurrent SetIfAbsent calls on one missing key exactly one reports true, "+
			"and the key holds its value", racers),
		needs: []capability{conditional},
		run: func(h *harness) {
			for round := range raceRounds {
				k := h.key("k" + strconv.Itoa(round))
				won := make([]bool, racers)
				h.reportProblems(concurrently(racers, func(g int) string {
					ok, err := h.co().SetIfAbsent(h.ctx, k, []byte("g"+strconv.Itoa(g)), 0)
					if err != nil {
						return fmt.Sprintf("SetIfAbsent(%q): unexpected error: %v", k, err)
					}
					won[g] = ok
					return ""
				}))
				winners := indexesOf(won)
				if len(winners) != 1 {
					h.errorf("round %d: %d concurrent SetIfAbsent(%q) calls: goroutines %v reported true, want exactly one",
						round, racers, k, winners)
					return
				}
				h.wantValue(k, []byte("g"+strconv.Itoa(winners[0])), "after the SetIfAbsent race, holding the winner's value")
			}
		},
	},
	{
		name: "Conditional/CompareAndSwap",
		rule: "CompareAndSwap replaces a plain value only when it equals old byte for byte, and reports whether it did; " +
			"an empty value is not a missing key; a missing key reports false; a history returns an error wrapping kv.ErrWrongType",
		needs: []capability{conditional},
		run: func(h *harness) {
			k, missing, empty, bin := h.key("k"), h.missingKey("k"), h.key("empty"), h.key("binary")
			h.set(k, []byte("v1"))
			h.wantCAS(k, "x", "v2", 0, false, "with another old value")
			h.wantCAS(k, "V1", "v2", 0, false, "with old differing in case")
			h.wantCAS(k, "v", "v2", 0, false, "with old a prefix of the value")
			h.wantCAS(k, "v1 ", "v2", 0, false, "with old the value and a space")
			h.wantValue(k, []byte("v1"), "after CompareAndSwap calls that did not swap")
			h.wantCAS(k, "v1", "v2", 0, true, "with old the value")
			h.wantValue(k, []byte("v2"), "after CompareAndSwap swapped")
			h.wantCAS(k, "v1", "v3", 0, false, "with the value it replaced")
			h.wantValue(k, []byte("v2"), "after a CompareAndSwap with a stale old value")

			h.wantCAS(missing, "", "x", 0, false, "of a missing key, with an empty old value")
			ok, err := h.co().CompareAndSwap(h.ctx, missing, nil, []byte("x"), 0)
			if err != nil || ok {
				h.errorf("CompareAndSwap(%q, nil, \"x\") of a missing key = %v, %v; want false, nil", missing, ok, err)
			}
			h.wantMissing(missing, "after CompareAndSwap of a missing key")

			h.set(empty, []byte{})
			h.wantCAS(empty, "x", "y", 0, false, "of an empty value, with a non-empty old value")
			h.wantCAS(empty, "", "filled", 0, true, "of an empty value, with an empty old value")
			h.wantValue(empty, []byte("filled"), "after CompareAndSwap of an empty value")
			h.wantCAS(empty, "filled", "", 0, true, "to an empty value")
			h.wantValue(empty, []byte{}, "after CompareAndSwap to an empty value")

			all := binaryValues()["all-bytes"]
			h.set(bin, []byte("a\x00b"))
			for _, old := range []string{"a", "a\x00", "a\x00c", "a\x00b\x00", "a\x00B"} {
				h.wantCAS(bin, old, "x", 0, false, fmt.Sprintf("of \"a\\x00b\" with old %q", old))
			}
			h.wantValue(bin, []byte("a\x00b"), "after CompareAndSwap calls with old values that differ after a NUL")
			h.wantCAS(bin, "a\x00b", string(all), 0, true, "of a value holding NUL")
			h.wantValue(bin, all, "after CompareAndSwap to every byte value")
			near := bytes.Clone(all)
			near[len(near)-1] ^= 1
			h.wantCAS(bin, string(near), "y", 0, false, "with old differing in its last byte")
			h.wantCAS(bin, string(all), "z", 0, true, "with old every byte value")
			h.wantValue(bin, []byte("z"), "after CompareAndSwap of a binary value")

			if h.has(historian) {
				hist := h.key("hist")
				h.appendAll(hist, "v1")
				ok, err := h.co().CompareAndSwap(h.ctx, hist, []byte("v1"), []byte("x"), 0)
				h.wantErr(err, kv.ErrWrongType, "CompareAndSwap(%q) of a history (returned %v)", hist, ok)
				h.wantHistory(hist, "after CompareAndSwap of a history", "v1")
			}
		},
	},
	{
		name: "Conditional/CASExpiry",
		rule: "CompareAndSwap with kv.KeepTTL keeps the key's expiry or lack of one; a positive TTL sets a new one; " +
			"a negative TTL returns an error wrapping kv.ErrInvalid and writes nothing",
		needs: []capability{conditional, expirer},
		run: func(h *harness) {
			kept, none, set, refresh, bad := h.key("kept"), h.key("none"), h.key("set"), h.key("refresh"), h.key("bad")
			ttl := 10 * time.Second
			h.setTTL(kept, []byte("1"), longTTL)
			h.wantCAS(kept, "1", "2", kv.KeepTTL, true, "of a key with an expiry")
			h.wantTTLWithin(kept, longTTL, "after CompareAndSwap with kv.KeepTTL")
			h.wantValue(kept, []byte("2"), "after CompareAndSwap with kv.KeepTTL")

			h.set(none, []byte("1"))
			h.wantCAS(none, "1", "2", kv.KeepTTL, true, "of a key without expiry")
			h.wantNoExpiry(none, "after CompareAndSwap with kv.KeepTTL")

			h.set(set, []byte("1"))
			h.wantCAS(set, "1", "2", ttl, true, "of a key without expiry")
			h.wantTTLWithin(set, ttl, fmt.Sprintf("after CompareAndSwap with TTL %v", ttl))

			h.setTTL(refresh, []byte("1"), longTTL)
			h.wantCAS(refresh, "1", "1", ttl, true, "with new equal to old")
			h.wantTTLWithin(refresh, ttl, fmt.Sprintf("after CompareAndSwap(_, \"1\", \"1\", %v) of a key with TTL %v", ttl, longTTL))

			h.set(bad, []byte("1"))
			for _, ttl := range []time.Duration{-time.Second, kv.NoExpiry} {
				ok, err := h.co().CompareAndSwap(h.ctx, bad, []byte("1"), []byte("2"), ttl)
				h.wantErr(err, kv.ErrInvalid, "CompareAndSwap(%q, _, _, %v) (returned %v)", bad, ttl, ok)
			}
			h.wantValue(bad, []byte("1"), "after CompareAndSwap with a negative TTL was rejected")
			h.wantNoExpiry(bad, "after CompareAndSwap with a negative TTL was rejected")
		},
	},
	{
		name: "Conditional/CASConcurrentIncrements",
		rule: fmt.Sprintf("the compare and the swap of CompareAndSwap are one step: %d goroutines that each add 1 "+
			"%d times to one counter, by Get then CompareAndSwap until it swaps, end at exactly %d",
			racers, increments, racers*increments),
		needs: []capability{conditional},
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("0"))
			h.reportProblems(concurrently(racers, func(int) string {
				for range increments {
					if p := casIncrement(h, k); p != "" {
						return p
					}
				}
				return ""
			}))
			h.wantValue(k, []byte(strconv.Itoa(racers*increments)),
				fmt.Sprintf("after %d goroutines each added 1 %d times with CompareAndSwap", racers, increments))
		},
	},
	{
		name: "Conditional/CompareAndDelete",
		rule: "CompareAndDelete deletes a plain value only when it equals old byte for byte, and reports whether it did; " +
			"a missing key reports false; a history returns an error wrapping kv.ErrWrongType",
		needs: []capability{conditional},
		run: func(h *harness) {
			k, empty, bin := h.key("k"), h.key("empty"), h.key("binary")
			h.set(k, []byte("v"))
			h.wantCAD(k, "w", false, "with another old value")
			h.wantCAD(k, "", false, "with an empty old value")
			h.wantValue(k, []byte("v"), "after CompareAndDelete calls that did not delete")
			h.wantCAD(k, "v", true, "with old the value")
			h.wantMissing(k, "after CompareAndDelete deleted it")
			h.wantCAD(k, "v", false, "of a key already deleted")
			h.wantCAD(h.missingKey("k"), "", false, "of a missing key, with an empty old value")

			h.set(empty, []byte{})
			h.wantCAD(empty, "x", false, "of an empty value, with a non-empty old value")
			h.wantValue(empty, []byte{}, "after CompareAndDelete that did not delete")
			h.wantCAD(empty, "", true, "of an empty value, with an empty old value")
			h.wantMissing(empty, "after CompareAndDelete of an empty value")

			h.set(bin, []byte("a\x00b"))
			h.wantCAD(bin, "a", false, "of \"a\\x00b\" with old \"a\"")
			h.wantCAD(bin, "a\x00c", false, "of \"a\\x00b\" with old \"a\\x00c\"")
			h.wantValue(bin, []byte("a\x00b"), "after CompareAndDelete calls with old values that differ after a NUL")
			h.wantCAD(bin, "a\x00b", true, "of a value holding NUL")

			if h.has(historian) {
				hist := h.key("hist")
				h.appendAll(hist, "v1")
				ok, err := h.co().CompareAndDelete(h.ctx, hist, []byte("v1"))
				h.wantErr(err, kv.ErrWrongType, "CompareAndDelete(%q) of a history (returned %v)", hist, ok)
				h.wantHistory(hist, "after CompareAndDelete of a history", "v1")
			}
		},
	},
	{
		name: "Conditional/Events",
		rule: "a conditional write that happened is reported as Set (or SetWithTTL) is, CompareAndDelete that deleted " +
			"as OpDelete; one whose condition failed is not reported",
		needs: []capability{conditional, watcher},
		run: func(h *harness) {
			k, other := h.key("k"), h.key("other")
			h.set(other, []byte("o"))
			w := h.watch(h.pattern("*"))
			w.expectResync()
			withTTL := h.has(expirer)
			missing := h.missingKey("k")
			h.wantCAS(missing, "", "x", 0, false, "of a missing key")
			h.wantCAD(missing, "", false, "of a missing key")
			h.wantSetIfAbsent(other, []byte("x"), 0, false, "of an existing key")
			h.wantCAS(other, "x", "y", 0, false, "with another old value")
			h.wantCAD(other, "x", false, "with another old value")

			want := []kv.Op{kv.OpSet, kv.OpSet}
			h.wantSetIfAbsent(k, []byte("a"), 0, true, "of a missing key")
			h.wantSetIfAbsent(k, []byte("b"), 0, false, "of an existing key")
			h.wantCAS(k, "x", "c", 0, false, "with another old value")
			h.wantCAD(k, "x", false, "with another old value")
			h.wantCAS(k, "a", "c", kv.KeepTTL, true, "with old the value")
			if withTTL {
				h.wantCAS(k, "c", "d", longTTL, true, "with a TTL")
				want = append(want, kv.OpSet, kv.OpExpire)
			} else {
				h.wantCAS(k, "c", "d", kv.KeepTTL, true, "with old the value")
				want = append(want, kv.OpSet)
			}
			h.wantCAD(k, "d", true, "with old the value")
			want = append(want, kv.OpDelete)
			if withTTL {
				h.wantSetIfAbsent(k, []byte("e"), longTTL, true, "of a missing key, with a TTL")
				want = append(want, kv.OpSet, kv.OpExpire)
			}
			h.del(other)
			w.expectAll(h.cfg.eventTimeout, "after conditional writes, some of whose conditions failed",
				map[string][]kv.Op{k: want, other: {kv.OpDelete}})
		},
	},
}

// stuckRetries bounds how many times in a row a read-modify-write loop may
// read the same value and fail to replace it. On a correct store a failed
// CompareAndSwap means another writer changed the value, so the next read
// differs, unless the store serves it from a cache that lags a little; a
// store whose compare never matches would otherwise spin until the case's
// deadline.
const stuckRetries = 10000

// casIncrement adds 1 to the decimal counter at key by Get then
// CompareAndSwap, retrying until it swaps. It returns a problem, or "".
func casIncrement(h *harness, key string) string {
	var last []byte
	for stuck := 0; ; {
		old, err := h.s.Get(h.ctx, key)
		if err != nil {
			return fmt.Sprintf("Get(%q): unexpected error: %v", key, err)
		}
		n, err := strconv.Atoi(string(old))
		if err != nil {
			return fmt.Sprintf("Get(%q) = %s, not a number the case wrote", key, show(old))
		}
		ok, err := h.co().CompareAndSwap(h.ctx, key, old, []byte(strconv.Itoa(n+1)), kv.KeepTTL)
		if err != nil {
			return fmt.Sprintf("CompareAndSwap(%q, %q, %q): unexpected error: %v", key, old, strconv.Itoa(n+1), err)
		}
		if ok {
			return ""
		}
		if stuck++; !bytes.Equal(old, last) {
			last, stuck = old, 0
		} else if stuck >= stuckRetries {
			return fmt.Sprintf("CompareAndSwap(%q, %q, _) reported false %d times in a row while Get kept returning %q",
				key, old, stuckRetries, old)
		}
	}
}

// wantSetIfAbsent checks what SetIfAbsent reports; what says when.
func (h *harness) wantSetIfAbsent(key string, value []byte, ttl time.Duration, want bool, what string) {
	h.t.Helper()
	got, err := h.co().SetIfAbsent(h.ctx, key, value, ttl)
	if err != nil || got != want {
		h.errorf("SetIfAbsent(%q, %s, %v) %s = %v, %v; want %v, nil", key, show(value), ttl, what, got, err, want)
	}
}

// wantCAS checks what CompareAndSwap reports; what says when.
func (h *harness) wantCAS(key, old, new string, ttl time.Duration, want bool, what string) {
	h.t.Helper()
	got, err := h.co().CompareAndSwap(h.ctx, key, []byte(old), []byte(new), ttl)
	if err != nil || got != want {
		h.errorf("CompareAndSwap(%q, %s, %s, %v) %s = %v, %v; want %v, nil",
			key, show([]byte(old)), show([]byte(new)), ttl, what, got, err, want)
	}
}

// wantCAD checks what CompareAndDelete reports; what says when.
func (h *harness) wantCAD(key, old string, want bool, what string) {
	h.t.Helper()
	got, err := h.co().CompareAndDelete(h.ctx, key, []byte(old))
	if err != nil || got != want {
		h.errorf("CompareAndDelete(%q, %s) %s = %v, %v; want %v, nil", key, show([]byte(old)), what, got, err, want)
	}
}

// errUpdate is the error an Update function returns to abandon its write.
var errUpdate = errors.New("conformance: update abandoned")

var updateCases = []testCase{
	{
		name: "Update/Basic",
		rule: "kv.Update creates a missing key (its function sees found false), changes a present one (its function " +
			"sees the value), and writes nothing when the function fails or returns the value found; " +
			"a history returns an error wrapping kv.ErrWrongType",
		needs: []capability{conditional},
		run: func(h *harness) {
			k := h.key("k")
			var w *watch
			if h.has(watcher) {
				w = h.watch(h.pattern("*"))
				w.expectResync()
			}
			h.wantUpdate(k, nil, false, "1", nil, "of a missing key")
			h.wantValue(k, []byte("1"), "after kv.Update of a missing key")
			h.wantUpdate(k, []byte("1"), true, "2", nil, "of a present key")
			h.wantUpdate(k, []byte("2"), true, "3", errUpdate, "whose function fails")
			h.wantUpdate(k, []byte("2"), true, "2", nil, "whose function returns the value found")
			h.wantValue(k, []byte("2"), "after kv.Update calls that wrote nothing")
			h.del(k)
			if w != nil {
				w.expect("after kv.Update calls, two of which wrote nothing, then Delete", k, kv.OpSet, kv.OpSet, kv.OpDelete)
			}

			if h.has(historian) {
				hist := h.key("hist")
				h.appendAll(hist, "v1")
				_, err := kv.Update(h.ctx, h.s, hist, func([]byte, bool) ([]byte, error) { return []byte("x"), nil })
				h.wantErr(err, kv.ErrWrongType, "kv.Update(%q) of a history", hist)
				h.wantHistory(hist, "after kv.Update of a history", "v1")
			}
		},
	},
	{
		name: "Update/Concurrent",
		rule: fmt.Sprintf("kv.Update retries until its write holds: %d goroutines that each add 1 %d times to one "+
			"counter end at exactly %d", updaters, updates, updaters*updates),
		needs: []capability{conditional},
		run: func(h *harness) {
			k := h.key("k")
			h.reportProblems(concurrently(updaters, func(int) string {
				var last []byte
				stuck := 0
				for range updates {
					_, err := kv.Update(h.ctx, h.s, k, func(old []byte, found bool) ([]byte, error) {
						if stuck++; !bytes.Equal(old, last) {
							last, stuck = old, 0
						} else if stuck >= stuckUpdates {
							return nil, fmt.Errorf("its function was given %s %d times in a row: the store's writes do not hold", show(old), stuckUpdates)
						}
						n := 0
						if found {
							var err error
							if n, err = strconv.Atoi(string(old)); err != nil {
								return nil, fmt.Errorf("%q holds %s, not a number the case wrote", k, show(old))
							}
						}
						return []byte(strconv.Itoa(n + 1)), nil
					})
					if err != nil {
						return fmt.Sprintf("kv.Update(%q): unexpected error: %v", k, err)
					}
				}
				return ""
			}))
			h.wantValue(k, []byte(strconv.Itoa(updaters*updates)),
				fmt.Sprintf("after %d goroutines each added 1 %d times with kv.Update", updaters, updates))
		},
	},
}

// Update/Concurrent's goroutines and updates each: fewer than the CAS
// increments, as kv.Update backs off after each conflict.
const updaters, updates = 4, 25

// stuckUpdates is stuckRetries for kv.Update, which backs off up to 100ms
// between its attempts.
const stuckUpdates = 50

// wantUpdate calls kv.Update(key) with a function that checks it is given
// wantOld and wantFound, and returns result, or fail when not nil. It
// checks that Update returns result, or fail.
func (h *harness) wantUpdate(key string, wantOld []byte, wantFound bool, result string, fail error, what string) {
	h.t.Helper()
	var problem string
	got, err := kv.Update(h.ctx, h.s, key, func(old []byte, found bool) ([]byte, error) {
		if found != wantFound || !bytes.Equal(old, wantOld) {
			problem = fmt.Sprintf("its function was called with %s, %v; want %s, %v", show(old), found, show(wantOld), wantFound)
		}
		if fail != nil {
			return nil, fail
		}
		return []byte(result), nil
	})
	switch {
	case problem != "":
		h.errorf("kv.Update(%q) %s: %s", key, what, problem)
	case fail != nil && !errors.Is(err, fail):
		h.errorf("kv.Update(%q) %s = %s, %v; want the function's error %v", key, what, show(got), err, fail)
	case fail == nil && (err != nil || string(got) != result):
		h.errorf("kv.Update(%q) %s = %s, %v; want %q, nil", key, what, show(got), err, result)
	}
}

// indexesOf returns the positions of the true entries of won: the
// goroutines that won a race.
func indexesOf(won []bool) []int {
	var idx []int
	for g, ok := range won {
		if ok {
			idx = append(idx, g)
		}
	}
	return idx
}
