package conformance

import (
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cledar/storekit/kv"
)

var appendIfCases = []testCase{
	{
		name: "AppendIf/Create",
		rule: "AppendIf with expect 0 creates a missing key's history at version 1, and with expect its latest " +
			"version appends and returns expect+1",
		needs: []capability{conditionalHistorian},
		run: func(h *harness) {
			k := h.key("k")
			for expect := int64(0); expect < 3; expect++ {
				h.wantAppendIf(k, "v"+strconv.FormatInt(expect+1, 10), expect)
			}
			h.wantLatest(k, "v3", 3, "after three AppendIf calls")
			h.wantHistory(k, "after three AppendIf calls", "v1", "v2", "v3")
			h.append(k, "v4")
			h.wantAppendIf(k, "v5", 4)
			h.wantHistory(k, "after AppendIf, Append, then AppendIf", "v1", "v2", "v3", "v4", "v5")
		},
	},
	{
		name: "AppendIf/Conflict",
		rule: "AppendIf with expect other than the latest version (0 for a missing key) writes nothing and returns an " +
			"error wrapping kv.ErrConflict that is a *kv.VersionConflict holding the key, expect and the latest version",
		needs: []capability{conditionalHistorian},
		run: func(h *harness) {
			k, missing := h.key("k"), h.missingKey("k")
			h.appendAll(k, "v1", "v2")
			for _, expect := range []int64{0, 1, 3, 10} {
				h.wantConflict(k, expect, 2, "of a history of 2")
			}
			h.wantHistory(k, "after AppendIf calls that conflicted", "v1", "v2")
			for _, expect := range []int64{1, 2} {
				h.wantConflict(missing, expect, 0, "of a missing key")
			}
			h.wantMissing(missing, "after AppendIf of a missing key conflicted")
			_, _, err := h.hi().Latest(h.ctx, missing)
			h.wantErr(err, kv.ErrNotFound, "Latest(%q) after AppendIf of a missing key conflicted", missing)
		},
	},
	{
		name: "AppendIf/ConvertsPlain",
		rule: "AppendIf counts a plain value as version 1: with expect 1 it converts the value into version 1 and appends " +
			"version 2; with another expect it conflicts, reporting version 1, and leaves the value alone",
		needs: []capability{conditionalHistorian},
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("plain"))
			for _, expect := range []int64{0, 2} {
				h.wantConflict(k, expect, 1, "of a plain value")
			}
			h.wantValue(k, []byte("plain"), "after AppendIf of a plain value conflicted")
			h.wantAppendIf(k, "new", 1)
			h.wantHistory(k, "after AppendIf(_, _, 1) of a plain value", "plain", "new")
		},
	},
	{
		name:  "AppendIf/Invalid",
		rule:  "AppendIf with a negative expect returns an error wrapping kv.ErrInvalid and writes nothing",
		needs: []capability{conditionalHistorian},
		run: func(h *harness) {
			k, missing := h.key("k"), h.missingKey("k")
			h.appendAll(k, "v1")
			for _, key := range []string{k, missing} {
				for _, expect := range []int64{-1, -100} {
					v, err := h.ch().AppendIf(h.ctx, key, []byte("x"), expect)
					h.wantErr(err, kv.ErrInvalid, "AppendIf(%q, _, %d) (returned %d)", key, expect, v)
				}
			}
			h.wantHistory(k, "after AppendIf with a negative expect", "v1")
			h.wantMissing(missing, "after AppendIf with a negative expect")
		},
	},
	{
		name: "AppendIf/Race",
		rule: fmt.Sprintf("of %d concurrent AppendIf calls at one version exactly one appends; "+
			"the others conflict, reporting the version it wrote", racers),
		needs: []capability{conditionalHistorian},
		run: func(h *harness) {
			for round := range raceRounds {
				k := h.key("k" + strconv.Itoa(round))
				h.appendAll(k, "v1", "v2")
				won := make([]bool, racers)
				h.reportProblems(concurrently(racers, func(g int) string {
					v, err := h.ch().AppendIf(h.ctx, k, []byte("g"+strconv.Itoa(g)), 2)
					var vc *kv.VersionConflict
					switch {
					case err == nil && v == 3:
						won[g] = true
					case err == nil:
						return fmt.Sprintf("AppendIf(%q, _, 2) = %d, nil; want 3", k, v)
					case !errors.As(err, &vc) || !errors.Is(err, kv.ErrConflict):
						return fmt.Sprintf("AppendIf(%q, _, 2): got err %v, want a *kv.VersionConflict", k, err)
					case vc.Latest != 3:
						return fmt.Sprintf("AppendIf(%q, _, 2) lost the race to a version 3, but its conflict reports latest version %d", k, vc.Latest)
					}
					return ""
				}))
				winners := indexesOf(won)
				if len(winners) != 1 {
					h.errorf("round %d: %d concurrent AppendIf(%q, _, 2) calls: goroutines %v appended, want exactly one",
						round, racers, k, winners)
					return
				}
				h.wantHistory(k, "after the AppendIf race", "v1", "v2", "g"+strconv.Itoa(winners[0]))
			}
		},
	},
	{
		name: "AppendIf/ConflictWhileWriting",
		rule: "an AppendIf that conflicts reports the latest version it found, which is never the version it " +
			"expected, while another writer appends to the key and deletes it",
		needs: []capability{conditionalHistorian},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1")
			const writers, checkers, attempts = 1, 3, 200
			var done atomic.Int32 // checkers that have finished
			h.reportProblems(concurrently(writers+checkers, func(g int) string {
				if g < writers {
					// Paced, so that the version often moves on by one
					// between an AppendIf and a read made just after it;
					// now and then the key is deleted and starts again at
					// version 1.
					for i := 1; done.Load() < checkers; i++ {
						var err error
						if i%10 == 0 {
							_, err = h.s.Delete(h.ctx, k)
						} else {
							_, err = h.hi().Append(h.ctx, k, []byte("w"))
						}
						if err != nil {
							return fmt.Sprintf("writer: %v", err)
						}
						time.Sleep(300 * time.Microsecond)
					}
					return ""
				}
				defer done.Add(1)
				for range attempts {
					_, latest, err := h.hi().Latest(h.ctx, k)
					if err != nil && !errors.Is(err, kv.ErrNotFound) {
						return fmt.Sprintf("Latest(%q): %v", k, err)
					}
					// The version just ahead of the one read: the writers
					// are about to reach it.
					expect := latest + 1
					_, err = h.ch().AppendIf(h.ctx, k, []byte("c"), expect)
					var vc *kv.VersionConflict
					switch {
					case err == nil:
					case !errors.As(err, &vc) || !errors.Is(err, kv.ErrConflict):
						return fmt.Sprintf("AppendIf(%q, _, %d): got err %v, want nil or a *kv.VersionConflict", k, expect, err)
					case vc.Latest == expect:
						return fmt.Sprintf("AppendIf(%q, _, %d) conflicted, reporting latest version %d: the version it "+
							"expected (a version read after the attempt rather than by it?)", k, expect, vc.Latest)
					}
				}
				return ""
			}))
		},
	},
	{
		name: "AppendIf/Events",
		rule: "AppendIf that appended is reported as Append is (OpAppend, after OpDelete when it converted a plain " +
			"value); one that conflicted or was rejected is not reported",
		needs: []capability{conditionalHistorian, watcher},
		run: func(h *harness) {
			k, p := h.key("k"), h.key("plain")
			h.set(p, []byte("plain"))
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.wantAppendIf(k, "v1", 0)
			for _, expect := range []int64{0, 2, -1} {
				if _, err := h.ch().AppendIf(h.ctx, k, []byte("x"), expect); err == nil {
					h.errorf("AppendIf(%q, _, %d) of a history of 1: got no error", k, expect)
				}
			}
			if _, err := h.ch().AppendIf(h.ctx, p, []byte("x"), 0); err == nil {
				h.errorf("AppendIf(%q, _, 0) of a plain value: got no error", p)
			}
			h.wantAppendIf(p, "v2", 1)
			h.wantAppendIf(k, "v2", 1)
			w.expectAll(h.cfg.eventTimeout, "after AppendIf calls, some of which conflicted",
				map[string][]kv.Op{k: {kv.OpAppend, kv.OpAppend}, p: {kv.OpDelete, kv.OpAppend}})
		},
	},
}

// wantAppendIf checks that AppendIf(key, value, expect) appends version
// expect+1.
func (h *harness) wantAppendIf(key, value string, expect int64) {
	h.t.Helper()
	got, err := h.ch().AppendIf(h.ctx, key, []byte(value), expect)
	if err != nil || got != expect+1 {
		h.errorf("AppendIf(%q, %q, %d) = %d, %v; want %d, nil", key, value, expect, got, err, expect+1)
	}
}

// wantConflict checks that AppendIf(key, _, expect) returns a
// *kv.VersionConflict, wrapping kv.ErrConflict, that reports latest.
func (h *harness) wantConflict(key string, expect, latest int64, what string) {
	h.t.Helper()
	v, err := h.ch().AppendIf(h.ctx, key, []byte("conflict"), expect)
	if !h.wantErr(err, kv.ErrConflict, "AppendIf(%q, _, %d) %s (returned %d)", key, expect, what, v) {
		return
	}
	var vc *kv.VersionConflict
	switch {
	case !errors.As(err, &vc):
		h.errorf("AppendIf(%q, _, %d) %s: got err %v (%T), want a *kv.VersionConflict in its chain", key, expect, what, err, err)
	case vc.Key != key || vc.Expected != expect || vc.Latest != latest:
		h.errorf("AppendIf(%q, _, %d) %s: got &kv.VersionConflict{Key: %q, Expected: %d, Latest: %d}, want Key %q, Expected %d, Latest %d",
			key, expect, what, vc.Key, vc.Expected, vc.Latest, key, expect, latest)
	}
}
