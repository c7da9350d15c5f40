package backendtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/kv"
)

// bulkKeys is the number of keys of the bulk writes: spread over as many
// hash slots on a cluster.
const bulkKeys = 200

// checkBulkWrite: SetMulti and DeleteMulti of 200 keys (over about 200
// slots on a cluster, each slot's keys in one command: one MSET on one
// server), with and without TTLs and with a key given twice, write and
// remove every key, and watchers hear each key's events.
func checkBulkWrite(t *testing.T, e atomicEnv) {
	s := e.store(t)
	bw := as[kv.BulkWriter](t, s)
	ctx := Context(t)
	keys := make([]string, bulkKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("bulk:%d", i)
	}
	if err := as[kv.Expirer](t, s).SetWithTTL(ctx, keys[1], []byte("old"), time.Hour); err != nil {
		t.Fatal(err)
	}
	ch := StartWatch(ctx, t, s, "bulk:*")

	items := make([]kv.Item, len(keys))
	for i, k := range keys {
		items[i] = kv.Item{Key: k, Value: []byte("v" + k)}
	}
	wantCmds := int64(1)
	if e.cluster {
		wantCmds = int64(len(rediskv.GroupBySlot(keys)))
	}
	before := commandCalls(e.masters, "mset") + commandCalls(e.masters, "set")
	if err := bw.SetMulti(ctx, items); err != nil {
		t.Fatalf("SetMulti of %d keys: %v", len(items), err)
	}
	if got := commandCalls(e.masters, "mset") + commandCalls(e.masters, "set") - before; got != wantCmds {
		t.Errorf("SetMulti of %d keys sent %d MSET and SET commands, want %d (one per slot)", len(keys), got, wantCmds)
	}
	wantEvents(t, ch, keys, func(int) []kv.Op { return []kv.Op{kv.OpSet} })
	checkBulkValues(t, s, items)
	wantTTL(t, s, keys[1], kv.NoExpiry)

	// Every third key with a TTL; the key 5 twice, the last item winning.
	for i := range items {
		items[i].Value = []byte("w" + keys[i])
		if i%3 == 0 {
			items[i].TTL = time.Hour
		}
	}
	items = append(items, kv.Item{Key: keys[5], Value: []byte("last")})
	if err := bw.SetMulti(ctx, items); err != nil {
		t.Fatalf("SetMulti of %d keys with TTLs: %v", len(items), err)
	}
	wantEvents(t, ch, keys, func(i int) []kv.Op {
		if i%3 == 0 {
			return []kv.Op{kv.OpSet, kv.OpExpire}
		}
		return []kv.Op{kv.OpSet}
	})
	checkBulkValues(t, s, items)
	wantTTL(t, s, keys[0], time.Hour)
	wantTTL(t, s, keys[2], kv.NoExpiry)

	n, err := bw.DeleteMulti(ctx, append(slices.Clone(keys), "bulk:missing", keys[0]))
	if n != len(keys) || err != nil {
		t.Errorf("DeleteMulti of %d keys, a missing one and one twice = %d, %v; want %d", len(keys), n, err, len(keys))
	}
	wantEvents(t, ch, keys, func(int) []kv.Op { return []kv.Op{kv.OpDelete} })
	vals, err := as[kv.MultiGetter](t, s).GetMulti(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if v.Found {
			t.Errorf("after DeleteMulti, %q holds %q", keys[i], v.Data)
		}
	}
	if err := bw.SetMulti(ctx, nil); err != nil {
		t.Errorf("SetMulti of no items: %v", err)
	}
	if n, err := bw.DeleteMulti(ctx, nil); n != 0 || err != nil {
		t.Errorf("DeleteMulti of no keys = %d, %v", n, err)
	}
	err = bw.SetMulti(ctx, []kv.Item{{Key: "bulk:a", Value: []byte("v")}, {Key: "bulk:b", TTL: -time.Second}})
	wantErr(t, "SetMulti with a negative TTL", err, kv.ErrInvalid, "bulk:b")
	if errors.As(err, new(*kv.BulkError)) {
		t.Errorf("SetMulti with a negative TTL: err = %v is a *kv.BulkError: nothing was written", err)
	}
	wantMissing(t, s, "bulk:a")
}

// checkBulkValues checks that s holds the value of the last item of each
// key of items.
func checkBulkValues(t *testing.T, s kv.Store, items []kv.Item) {
	t.Helper()
	want := make(map[string]string)
	var keys []string
	for _, it := range items {
		if _, ok := want[it.Key]; !ok {
			keys = append(keys, it.Key)
		}
		want[it.Key] = string(it.Value)
	}
	vals, err := as[kv.MultiGetter](t, s).GetMulti(Context(t), keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if !v.Found || string(v.Data) != want[keys[i]] {
			t.Errorf("GetMulti[%q] = %+v, want %q", keys[i], v, want[keys[i]])
		}
	}
}

// wantEvents reads ch until each of keys has had as many events as
// ops(i) for the i-th key lists, and checks that they are those, in
// order.
func wantEvents(t *testing.T, ch <-chan kv.Event, keys []string, ops func(i int) []kv.Op) {
	t.Helper()
	index := make(map[string]int, len(keys))
	got := make([][]kv.Op, len(keys))
	missing := 0
	for i, k := range keys {
		index[k] = i
		missing += len(ops(i))
	}
	for missing > 0 {
		ev := WaitEvent(t, ch, fmt.Sprintf("%d more events of the bulk write", missing), func(kv.Event) bool { return true })
		i, ok := index[ev.Key]
		if !ok || len(got[i]) == len(ops(i)) {
			t.Fatalf("unexpected event %v", ev)
		}
		got[i] = append(got[i], ev.Op)
		missing--
	}
	for i, k := range keys {
		if !slices.Equal(got[i], ops(i)) {
			t.Errorf("events of %q = %v, want %v", k, got[i], ops(i))
		}
	}
}

// checkBulkPartial: for an ACL user whose keys are app:*, SetMulti and
// DeleteMulti of permitted and forbidden keys write nothing on one server
// (one atomic step, refused) and, on a cluster, every slot without a
// forbidden key and no other: a *kv.BulkError whose Done says which.
func checkBulkPartial(t *testing.T, e atomicEnv) {
	const user, password = "bulk", "bulk-pw-3f9a"
	for _, m := range e.masters {
		m.MustDo("ACL", "SETUSER", user, "on", ">"+password, "~app:*", "+@all")
	}
	admin, s := e.store(t), e.asUser(t, user, password)
	bw := as[kv.BulkWriter](t, s)
	ctx := Context(t)

	var items []kv.Item
	for i := range bulkKeys {
		it := kv.Item{Key: fmt.Sprintf("app:%d", i), Value: []byte(fmt.Sprint(i))}
		if i%4 == 0 {
			it.TTL = time.Hour
		}
		items = append(items, it)
	}
	// Forbidden keys, alone in their slots or not, and a slot whose script
	// (an item has a TTL) writes a permitted and a forbidden key.
	items = append(items, kv.Item{Key: "zz:1", Value: []byte("z")}, kv.Item{Key: "zz:2", Value: []byte("z")},
		kv.Item{Key: "app:{mix}1", Value: []byte("m"), TTL: time.Hour}, kv.Item{Key: "zz:{mix}1", Value: []byte("m")})
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	// On a cluster a slot's keys are done if the slot holds no forbidden
	// key; on one server nothing is.
	forbidden := make(map[int]bool)
	for _, k := range keys {
		if !strings.HasPrefix(k, "app:") {
			forbidden[rediskv.Slot(k)] = true
		}
	}
	wantDone := make([]bool, len(keys))
	for i, k := range keys {
		wantDone[i] = e.cluster && !forbidden[rediskv.Slot(k)]
	}

	err := bw.SetMulti(ctx, items)
	checkPartial(t, "SetMulti", err, wantDone)
	vals, gerr := as[kv.MultiGetter](t, admin).GetMulti(ctx, keys)
	if gerr != nil {
		t.Fatal(gerr)
	}
	for i, v := range vals {
		if v.Found != wantDone[i] || (v.Found && string(v.Data) != string(items[i].Value)) {
			t.Errorf("after the SetMulti, %q: %+v; want written: %v", keys[i], v, wantDone[i])
		}
	}

	if err := as[kv.BulkWriter](t, admin).SetMulti(ctx, items); err != nil {
		t.Fatalf("SetMulti as the default user: %v", err)
	}
	n, err := bw.DeleteMulti(ctx, keys)
	checkPartial(t, "DeleteMulti", err, wantDone)
	done := 0
	for _, d := range wantDone {
		if d {
			done++
		}
	}
	if n != done {
		t.Errorf("DeleteMulti = %d, want %d: the keys of the slots without a forbidden key", n, done)
	}
	vals, gerr = as[kv.MultiGetter](t, admin).GetMulti(ctx, keys)
	if gerr != nil {
		t.Fatal(gerr)
	}
	for i, v := range vals {
		if v.Found == wantDone[i] {
			t.Errorf("after the DeleteMulti, %q found: %v; want deleted: %v", keys[i], v.Found, wantDone[i])
		}
	}
}

// checkPartial checks the error of a bulk write that the server refused
// for the keys whose wantDone is false: kv.ErrPermission, and a
// *kv.BulkError with Done equal to wantDone when some keys were done.
func checkPartial(t *testing.T, what string, err error, wantDone []bool) {
	t.Helper()
	some := slices.Contains(wantDone, true)
	if some && !slices.Contains(wantDone, false) {
		t.Fatalf("the test's keys leave no slot without a forbidden key")
	}
	var be *kv.BulkError
	switch {
	case !errors.Is(err, kv.ErrPermission) || errors.Is(err, kv.ErrUnavailable):
		t.Errorf("%s: err = %v, want one wrapping kv.ErrPermission", what, err)
	case errors.As(err, &be) != some:
		t.Errorf("%s: err = %v (%T); want a *kv.BulkError: %v", what, err, err, some)
	case some && !slices.Equal(be.Done, wantDone):
		t.Errorf("%s: Done = %v\nwant %v", what, be.Done, wantDone)
	}
	t.Logf("%s: %v", what, err)
}
