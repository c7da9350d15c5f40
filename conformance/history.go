package conformance

import (
	"bytes"
	"fmt"

	"github.com/cledar/storekit/kv"
)

var historyCases = []testCase{
	{
		name:  "History/AppendVersions",
		rule:  "Append returns versions 1, 2, 3, ...",
		needs: []capability{historian},
		run: func(h *harness) {
			k := h.key("k")
			for want := int64(1); want <= 3; want++ {
				if got := h.append(k, fmt.Sprint("v", want)); got != want {
					h.errorf("Append(%q) number %d returned version %d, want %d", k, want, got, want)
				}
			}
		},
	},
	{
		name:  "History/Latest",
		rule:  "Latest returns the newest value and its version",
		needs: []capability{historian},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2", "v3")
			h.wantLatest(k, "v3", 3, "after three Appends")
		},
	},
	{
		name:  "History/At",
		rule:  "At(n) returns version n, kv.ErrNotFound beyond the end and kv.ErrInvalid below 1",
		needs: []capability{historian},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2", "v3")
			for n, want := range []string{"v1", "v2", "v3"} {
				h.wantAt(k, int64(n+1), want)
			}
			for _, n := range []int64{4, 100} {
				v, err := h.hi().At(h.ctx, k, n)
				h.wantErr(err, kv.ErrNotFound, "At(%q, %d) of a history of 3 (returned %s)", k, n, show(v))
			}
			for _, n := range []int64{0, -1} {
				v, err := h.hi().At(h.ctx, k, n)
				h.wantErr(err, kv.ErrInvalid, "At(%q, %d) (returned %s)", k, n, show(v))
			}
		},
	},
	{
		name:  "History/OldestFirst",
		rule:  "History returns every entry, oldest (version 1) first",
		needs: []capability{historian},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2", "v3")
			h.wantHistory(k, "after three Appends", "v1", "v2", "v3")
		},
	},
	{
		name:  "History/PlainValue",
		rule:  "a key that holds a plain value counts as a history of one entry",
		needs: []capability{historian},
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("plain"))
			h.wantLatest(k, "plain", 1, "of a plain value")
			h.wantAt(k, 1, "plain")
			h.wantHistory(k, "of a plain value", "plain")
			v, err := h.hi().At(h.ctx, k, 2)
			if err == nil {
				h.errorf("At(%q, 2) of a plain value = %s, want an error", k, show(v))
			}
		},
	},
	{
		name:  "History/AppendConverts",
		rule:  "Append on a plain value converts it into version 1 and appends version 2",
		needs: []capability{historian},
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("old"))
			if got := h.append(k, "new"); got != 2 {
				h.errorf("Append(%q) onto a plain value returned version %d, want 2", k, got)
			}
			h.wantAt(k, 1, "old")
			h.wantLatest(k, "new", 2, "after Append onto a plain value")
			h.wantHistory(k, "after Append onto a plain value", "old", "new")
		},
	},
	{
		name:  "History/GetWrongType",
		rule:  "Get of a key that holds a history returns an error wrapping kv.ErrWrongType",
		needs: []capability{historian},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2")
			v, err := h.s.Get(h.ctx, k)
			h.wantErr(err, kv.ErrWrongType, "Get(%q) of a history (returned %s)", k, show(v))
		},
	},
	{
		name:  "History/Missing",
		rule:  "Latest, At and History of a missing key return an error wrapping kv.ErrNotFound",
		needs: []capability{historian},
		run: func(h *harness) {
			k := h.missingKey("k")
			_, _, err := h.hi().Latest(h.ctx, k)
			h.wantErr(err, kv.ErrNotFound, "Latest(%q) of a missing key", k)
			_, err = h.hi().At(h.ctx, k, 1)
			h.wantErr(err, kv.ErrNotFound, "At(%q, 1) of a missing key", k)
			_, err = h.hi().History(h.ctx, k)
			h.wantErr(err, kv.ErrNotFound, "History(%q) of a missing key", k)
		},
	},
	{
		name:  "History/Delete",
		rule:  "Delete removes a history and reports true; a later Append starts again at version 1",
		needs: []capability{historian},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2")
			h.wantDelete(k, true, "of a history")
			_, _, err := h.hi().Latest(h.ctx, k)
			h.wantErr(err, kv.ErrNotFound, "Latest(%q) after Delete", k)
			h.wantMissing(k, "after Delete of a history")
			if got := h.append(k, "again"); got != 1 {
				h.errorf("Append(%q) after Delete of its history returned version %d, want 1", k, got)
			}
		},
	},
	{
		name:  "History/SetReplaces",
		rule:  "Set replaces a history with a plain value",
		needs: []capability{historian},
		run: func(h *harness) {
			k := h.key("k")
			h.appendAll(k, "v1", "v2")
			h.set(k, []byte("plain"))
			h.wantValue(k, []byte("plain"), "after Set over a history")
			h.wantLatest(k, "plain", 1, "after Set over a history")
		},
	},
	{
		name:  "History/BinaryAndCopies",
		rule:  "history entries are kept byte for byte and copied in and out",
		needs: []capability{historian},
		run: func(h *harness) {
			k := h.key("k")
			vals := binaryValues()
			entries := []string{"first", string(vals["empty"]), string(vals["nuls"]), string(vals["all-bytes"]), "last"}
			in := []byte(entries[0])
			_, err := h.hi().Append(h.ctx, k, in)
			h.must(err, "Append(%q)", k)
			copy(in, "XXXX")
			h.appendAll(k, entries[1:]...)
			latest, _, err := h.hi().Latest(h.ctx, k)
			h.must(err, "Latest(%q)", k)
			copy(latest, "XXXX")
			all, err := h.hi().History(h.ctx, k)
			h.must(err, "History(%q)", k)
			if len(all) > 0 {
				copy(all[0], "XXXX")
			}
			h.wantHistory(k, "of binary entries, after changing slices given to Append or returned by Latest and History", entries...)
		},
	},
}

// append calls Append, ending the case if it fails.
func (h *harness) append(key, value string) int64 {
	h.t.Helper()
	v, err := h.hi().Append(h.ctx, key, []byte(value))
	h.must(err, "Append(%q, %q)", key, value)
	return v
}

// appendAll Appends values to key in order.
func (h *harness) appendAll(key string, values ...string) {
	h.t.Helper()
	for _, v := range values {
		h.append(key, v)
	}
}

// wantLatest checks Latest(key).
func (h *harness) wantLatest(key, want string, wantVersion int64, what string) {
	h.t.Helper()
	got, version, err := h.hi().Latest(h.ctx, key)
	if err != nil || !bytes.Equal(got, []byte(want)) || version != wantVersion {
		h.errorf("Latest(%q) %s = %s, %d, %v; want %q, %d, nil", key, what, show(got), version, err, want, wantVersion)
	}
}

// wantAt checks At(key, version).
func (h *harness) wantAt(key string, version int64, want string) {
	h.t.Helper()
	got, err := h.hi().At(h.ctx, key, version)
	if err != nil || !bytes.Equal(got, []byte(want)) {
		h.errorf("At(%q, %d) = %s, %v; want %q, nil", key, version, show(got), err, want)
	}
}

// wantHistory checks History(key).
func (h *harness) wantHistory(key, what string, want ...string) {
	h.t.Helper()
	got, err := h.hi().History(h.ctx, key)
	if err != nil {
		h.errorf("History(%q) %s: got err %v, want %d entries", key, what, err, len(want))
		return
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = bytes.Equal(got[i], []byte(want[i]))
	}
	if !ok {
		h.errorf("History(%q) %s = %s, want %s (oldest first)", key, what, showAll(got), showAll(stringsToBytes(want)))
	}
}

func showAll(vs [][]byte) string {
	s := "["
	for i, v := range vs {
		if i > 0 {
			s += " "
		}
		s += show(v)
	}
	return s + "]"
}

func stringsToBytes(ss []string) [][]byte {
	bs := make([][]byte, len(ss))
	for i, s := range ss {
		bs[i] = []byte(s)
	}
	return bs
}
