package rediskv

import (
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"unsafe"

	"github.com/cledar/storekit/internal/validate"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// setScript sets each KEYS[i] to ARGV[2i-1], with an expiry of ARGV[2i]
// milliseconds unless that is "0", in one atomic step, and returns the
// number of keys: watchers see "set" for each key, followed by "expire"
// for each key given an expiry.
var setScript = newScript(`
for i, key in ipairs(KEYS) do
	local px = ARGV[2 * i]
	if px == '0' then
		redis.call('SET', key, ARGV[2 * i - 1])
	else
		redis.call('SET', key, ARGV[2 * i - 1], 'PX', px)
	end
end
return #KEYS
`)

// SetMulti implements [kv.BulkWriter]. The distinct keys (the last item of
// a key wins) are written in groups, each in one atomic command: MSET, or
// when an item of the group has a TTL a Lua script of SET and SET PX (ttl
// rounded up to a millisecond). One server takes one group of every key; a
// cluster one group per hash slot, all sent at once, pipelined, so each
// master gets its groups in one round trip; a ring one group per key. When
// some groups fail and others succeed, the error is a *kv.BulkError whose
// Done marks the items of the groups that succeeded.
func (s *Store) SetMulti(ctx context.Context, items []kv.Item) (err error) {
	defer s.counters.Done(metrics.OpSetMulti, &err)
	// The operation's name, for errors only: built when one occurs.
	op := func() string { return fmt.Sprintf("setmulti (%d items)", len(items)) }
	if err := s.life.Check(ctx); err != nil {
		return fmt.Errorf("%s: %s: %w", s.backend, op(), err)
	}
	// The keys and the arguments of the commands: 3 strings an item at most.
	sc := newScratch(3 * len(items))
	defer sc.free()
	keys := sc.take(len(items))
	for i, it := range items {
		if err := validate.OptionalTTL(it.TTL); err != nil {
			return s.fail(op()+": set", it.Key, err)
		}
		keys[i] = it.Key
	}
	if len(items) == 0 {
		return nil
	}
	b := s.newBulk(keys)
	last := b.of // the item that wins, per distinct key
	if len(b.keys) < len(b.of) {
		last = make([]int, len(b.keys))
		for i, u := range b.of {
			last[u] = i
		}
	}
	w := newSetWriter(items, last, s.c.CopyBulkArgs(ctx), sc)
	bt := newBatch(len(b.groups))
	defer bt.free()
	for i, g := range b.groups {
		bt.cmds[i] = w.cmd(g)
	}
	s.setSlotKeys(bt.cmds, b.groups)
	s.doMulti(ctx, bt.cmds, bt.replies, setScript)
	for _, k := range b.keys {
		s.wrote(k)
	}
	_, err = s.bulkOutcome(ctx, op, "write", b, bt.replies)
	return err
}

// A setWriter builds the commands of a SetMulti. The values of the items
// that win are used in place or, when the client must hold copies
// (Client.CopyBulkArgs), copied once into one string that the commands'
// arguments share; the arguments of the commands are cut from a scratch.
type setWriter struct {
	items  []kv.Item
	last   []int    // last[u] is the item that wins for distinct key u
	copied []string // copied[u] is the copy of that item's value, if copied
	sc     *scratch // what the commands' arguments are cut from
}

// newSetWriter returns the setWriter of items, whose items last names win,
// with copies of their values if copyValues, cutting arguments from sc.
func newSetWriter(items []kv.Item, last []int, copyValues bool, sc *scratch) *setWriter {
	w := &setWriter{items: items, last: last, sc: sc}
	if !copyValues {
		return w
	}
	n := 0
	for _, i := range last {
		n += len(items[i].Value)
	}
	buf := make([]byte, 0, n)
	for _, i := range last {
		buf = append(buf, items[i].Value...)
	}
	all := string(buf)
	w.copied = make([]string, len(last))
	off := 0
	for u, i := range last {
		w.copied[u] = all[off : off+len(items[i].Value)]
		off += len(items[i].Value)
	}
	return w
}

// value returns the value of distinct key u as an argument: the item's
// bytes in place, or their copy.
func (w *setWriter) value(u int) string {
	if w.copied != nil {
		return w.copied[u]
	}
	v := w.items[w.last[u]].Value
	return unsafe.String(unsafe.SliceData(v), len(v))
}

// take returns n arguments cut from the scratch, empty with room for n.
func (w *setWriter) take(n int) []string { return w.sc.take(n)[:0] }

// cmd returns the command that writes the keys of g: SET for one key, MSET
// for keys without a TTL, and setScript otherwise.
func (w *setWriter) cmd(g SlotGroup) Cmd {
	item := func(j int) kv.Item { return w.items[w.last[g.Pos[j]]] }
	value := func(j int) string { return w.value(g.Pos[j]) }
	if len(g.Keys) == 1 {
		it := item(0)
		if it.TTL > 0 {
			return Cmd{Name: "SET", Key: it.Key, Args: []string{value(0), "PX", strconv.FormatInt(millis(it.TTL), 10)}}
		}
		return Cmd{Name: "SET", Key: it.Key, Args: append(w.take(1), value(0))}
	}
	withTTL := false
	for j := range g.Keys {
		withTTL = withTTL || item(j).TTL > 0
	}
	if !withTTL {
		args := append(w.take(2*len(g.Keys)-1), value(0))
		for j := 1; j < len(g.Keys); j++ {
			args = append(args, g.Keys[j], value(j))
		}
		return Cmd{Name: "MSET", Key: g.Keys[0], Args: args}
	}
	argv := make([]string, 0, 2*len(g.Keys))
	for j := range g.Keys {
		argv = append(argv, value(j), strconv.FormatInt(millis(item(j).TTL), 10))
	}
	return setScript.cmd(g.Keys, argv)
}

// DeleteMulti implements [kv.BulkWriter] with DEL: one of every distinct
// key on one server; on a cluster one per hash slot, all sent at once,
// pipelined; on a ring one per key. Each DEL is atomic. When some fail and
// others succeed, the error is a *kv.BulkError whose Done marks the keys
// of the DELs that succeeded, and the count is of the keys they removed.
func (s *Store) DeleteMulti(ctx context.Context, keys []string) (_ int, err error) {
	defer s.counters.Done(metrics.OpDeleteMulti, &err)
	// The operation's name, for errors only: built when one occurs.
	op := func() string { return fmt.Sprintf("deletemulti (%d keys)", len(keys)) }
	if err := s.life.Check(ctx); err != nil {
		return 0, fmt.Errorf("%s: %s: %w", s.backend, op(), err)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	var b bulk
	if s.c.Layout() == OneServer {
		b = oneDel(keys)
	} else {
		b = s.newBulk(keys)
	}
	bt := newBatch(len(b.groups))
	defer bt.free()
	for i, g := range b.groups {
		bt.cmds[i] = Cmd{Name: "DEL", Key: g.Keys[0], Args: g.Keys[1:]}
	}
	s.setSlotKeys(bt.cmds, b.groups)
	s.doMulti(ctx, bt.cmds, bt.replies, nil)
	for _, k := range b.keys {
		s.wrote(k)
	}
	return s.bulkOutcome(ctx, op, "delete", b, bt.replies)
}

// A bulk is the work of a bulk write: the keys of the call, and the groups
// of them that are each written in one atomic command.
type bulk struct {
	// keys are the distinct keys, in the order they first appear (every
	// key of the call, repeats included, for oneDel).
	keys []string
	of   []int // of[i] is the index in keys of the call's i-th key
	// groups split keys (Pos indexes keys): all of them on one server, by
	// hash slot on a cluster, one each on a ring.
	groups []SlotGroup
}

// newBulk returns the bulk write of keys, which may repeat.
func (s *Store) newBulk(keys []string) bulk {
	b := bulk{keys: keys, of: identity(len(keys))}
	if hasRepeats(keys) {
		b = bulk{of: make([]int, len(keys)), keys: make([]string, 0, len(keys))}
		index := make(map[string]int, len(keys))
		for i, k := range keys {
			u, ok := index[k]
			if !ok {
				u = len(b.keys)
				index[k] = u
				b.keys = append(b.keys, k)
			}
			b.of[i] = u
		}
	}
	switch s.c.Layout() {
	case Cluster:
		b.groups = GroupBySlot(b.keys)
	case Sharded:
		b.groups = make([]SlotGroup, len(b.keys))
		pos := identity(len(b.keys))
		for i := range b.keys {
			b.groups[i] = SlotGroup{Keys: b.keys[i : i+1 : i+1], Pos: pos[i : i+1 : i+1]}
		}
	default:
		b.groups = []SlotGroup{{Keys: b.keys, Pos: identity(len(b.keys))}}
	}
	return b
}

// hasRepeats reports whether a key appears more than once in keys, without
// allocating for up to smallGroup keys: the usual bulk write repeats none,
// and then its keys need no map to the distinct ones.
func hasRepeats(keys []string) bool {
	if len(keys) < 2 {
		return false
	}
	// Open addressing on the keys' hashes, holding index+1, 0 when free.
	var buf [2 * smallGroup]int32
	table := buf[:]
	if len(keys) > smallGroup {
		table = make([]int32, tableSize(len(keys)))
	}
	mask := uint64(len(table) - 1)
	for i, k := range keys {
		j := maphash.String(repeatSeed, k) & mask
		for ; table[j] != 0; j = (j + 1) & mask {
			if keys[table[j]-1] == k {
				return true
			}
		}
		table[j] = int32(i + 1)
	}
	return false
}

// repeatSeed seeds hasRepeats's hashes.
var repeatSeed = maphash.MakeSeed()

// oneDel returns the bulk delete of keys, which may repeat, on one server:
// one DEL of every key, which removes and counts a repeated key once, so
// the repeats need not be found.
func oneDel(keys []string) bulk {
	all := identity(len(keys))
	return bulk{keys: keys, of: all, groups: []SlotGroup{{Keys: keys, Pos: all}}}
}

// bulkOutcome returns the sum of the integer replies of the groups of b
// that succeeded (the keys a DEL removed) and the error of the bulk write
// op() (such as "setmulti (3 items)") of what (such as "write"): nil when
// every group succeeded, the first group's error when none did, and a
// *kv.BulkError holding it otherwise.
func (s *Store) bulkOutcome(ctx context.Context, op func() string, what string, b bulk, replies []Reply) (int, error) {
	n, failed := 0, -1
	for i, r := range replies {
		if r.Err != nil {
			if failed < 0 {
				failed = i
			}
			continue
		}
		n += int(r.Int)
	}
	if failed < 0 {
		return n, nil
	}
	first := s.err(ctx, groupOp(op()+": "+what, b.groups[failed]), replies[failed].Err)
	done := make([]bool, len(b.keys))
	succeeded := 0
	for i, r := range replies {
		if r.Err == nil {
			succeeded++
			for _, p := range b.groups[i].Pos {
				done[p] = true
			}
		}
	}
	if succeeded == 0 {
		return 0, first
	}
	be := &kv.BulkError{Done: make([]bool, len(b.of)), Err: first}
	for i, u := range b.of {
		be.Done[i] = done[u]
	}
	return n, be
}

// groupOp names the write of g in op, for its error: `write of "k"`, or
// `write of 3 keys from "k"`.
func groupOp(op string, g SlotGroup) string {
	if len(g.Keys) == 1 {
		return op + " of " + kv.QuoteKey(g.Keys[0])
	}
	return fmt.Sprintf("%s of %d keys from %s", op, len(g.Keys), kv.QuoteKey(g.Keys[0]))
}
