package conformance

import (
	"github.com/cledar/storekit/kv"
)

var pruneCases = []testCase{
	{
		name: "Prune/Basic",
		rule: "Prune(key, before) empties the entries below version before and reports how many; " +
			"an emptied version reads as an empty value; versions, Latest and the length of History are unchanged",
		needs: []capability{historian, pruner},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2", "v3", "v4", "v5")
			h.wantPrune(k, 4, 3, "of a history of 5")
			for n := int64(1); n <= 3; n++ {
				h.wantAt(k, n, "")
			}
			h.wantAt(k, 4, "v4")
			h.wantAt(k, 5, "v5")
			v, err := h.hi().At(h.ctx, k, 6)
			h.wantErr(err, kv.ErrNotFound, "At(%q, 6) after Prune of a history of 5 (returned %s)", k, show(v))
			h.wantLatest(k, "v5", 5, "after Prune")
			h.wantHistory(k, "after Prune(before=4)", "", "", "", "v4", "v5")
		},
	},
	{
		name:  "Prune/NeverNewest",
		rule:  "Prune never empties the newest entry, however high before is",
		needs: []capability{historian, pruner},
		run: func(h *harness) {
			k, one := h.key("k"), h.key("one")
			h.appendAll(k, "v1", "v2", "v3")
			h.wantPrune(k, 100, 2, "of a history of 3")
			h.wantHistory(k, "after Prune(before=100)", "", "", "v3")
			h.wantLatest(k, "v3", 3, "after Prune(before=100)")
			h.wantPrune(k, 4, 0, "again, with every old entry empty")
			h.wantLatest(k, "v3", 3, "after a second Prune")

			h.append(one, "v1")
			h.wantPrune(one, 2, 0, "of a history of 1")
			h.wantHistory(one, "after Prune of a history of 1", "v1")
		},
	},
	{
		name: "Prune/StopsAtEmpty",
		rule: "Prune works back from version before-1 and stops at the first entry already empty, " +
			"so a later Prune empties only the entries written since",
		needs: []capability{historian, pruner},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2", "v3", "v4", "v5")
			h.wantPrune(k, 3, 2, "of a history of 5")
			h.wantPrune(k, 5, 2, "after Prune(before=3)")
			h.wantHistory(k, "after Prune(before=3) then Prune(before=5)", "", "", "", "", "v5")
			h.appendAll(k, "v6", "v7")
			h.wantPrune(k, 8, 2, "after two more Appends")
			h.wantHistory(k, "after the Appends of v6 and v7 and Prune(before=8)", "", "", "", "", "", "", "v7")

			// An entry appended empty stops the walk as a pruned one does.
			g := h.key("gap")
			h.appendAll(g, "v1", "", "v3", "v4")
			h.wantPrune(g, 4, 1, `of the history [v1 "" v3 v4]`)
			h.wantHistory(g, "after Prune(before=4)", "v1", "", "", "v4")
		},
	},
	{
		name:  "Prune/MissingAndPlain",
		rule:  "Prune of a missing key or of a plain value does nothing and reports 0",
		needs: []capability{historian, pruner},
		run: func(h *harness) {
			missing, plain := h.missingKey("k"), h.key("plain")
			h.wantPrune(missing, 5, 0, "of a missing key")
			h.wantMissing(missing, "after Prune of a missing key")
			h.set(plain, []byte("value"))
			h.wantPrune(plain, 5, 0, "of a plain value")
			h.wantValue(plain, []byte("value"), "after Prune of a plain value")
			h.wantLatest(plain, "value", 1, "after Prune of a plain value")
		},
	},
	{
		name:  "Prune/Invalid",
		rule:  "Prune with before below 1 returns an error wrapping kv.ErrInvalid and empties nothing",
		needs: []capability{historian, pruner},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2", "v3")
			for _, before := range []int64{0, -1} {
				for _, key := range []string{k, h.missingKey("k")} {
					n, err := h.pr().Prune(h.ctx, key, before)
					h.wantErr(err, kv.ErrInvalid, "Prune(%q, %d) (returned %d)", key, before, n)
				}
			}
			h.wantHistory(k, "after Prune with before below 1", "v1", "v2", "v3")
		},
	},
	{
		name:  "Prune/ThenAppend",
		rule:  "Append after Prune continues the version numbers",
		needs: []capability{historian, pruner},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2", "v3")
			h.wantPrune(k, 3, 2, "of a history of 3")
			if got := h.append(k, "v4"); got != 4 {
				h.errorf("Append(%q) after Prune of a history of 3 returned version %d, want 4", k, got)
			}
			h.wantAt(k, 3, "v3")
			h.wantLatest(k, "v4", 4, "after Prune then Append")
			h.wantHistory(k, "after Prune then Append", "", "", "v3", "v4")
		},
	},
	{
		name: "Prune/Events",
		rule: "a Prune that empties entries is reported as OpSet (one, or one per entry emptied); " +
			"one that empties nothing is not reported",
		needs: []capability{historian, pruner, watcher},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2", "v3")
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.wantPrune(k, 1, 0, "with before=1")
			h.wantPrune(h.missingKey("k"), 3, 0, "of a missing key")
			h.append(k, "v4")
			w.expect("after Prunes that emptied nothing, then Append", k, kv.OpAppend)

			h.wantPrune(k, 4, 3, "of a history of 4")
			h.append(k, "v5")
			before, ok := w.until("after Prune then Append", k, kv.OpAppend)
			if !ok {
				return
			}
			sets := 0
			for _, ev := range before {
				if ev.Key == k && ev.Op == kv.OpSet {
					sets++
				} else {
					h.errorf("Watch(%q) after Prune then Append: unexpected event %v before OpAppend", w.pattern, ev)
				}
			}
			if sets < 1 || sets > 3 {
				h.errorf("Watch(%q): a Prune that emptied 3 entries was reported by %d OpSet events, want 1 to 3", w.pattern, sets)
			}
		},
	},
}

// wantPrune checks that Prune(key, before) succeeds and reports want entries
// emptied; what says when.
func (h *harness) wantPrune(key string, before int64, want int, what string) {
	h.t.Helper()
	got, err := h.pr().Prune(h.ctx, key, before)
	if err != nil || got != want {
		h.errorf("Prune(%q, %d) %s = %d, %v; want %d, nil", key, before, what, got, err, want)
	}
}
