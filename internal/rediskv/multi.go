package rediskv

import (
	"context"
	"fmt"
	"slices"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// MaxMGetKeys bounds the keys of one MGET.
const MaxMGetKeys = 1000

// GetMulti implements [kv.MultiGetter]: one MGET (at most MaxMGetKeys keys
// each) on one server; on a cluster one MGET per hash slot (a GET for a slot
// of one key), pipelined, so that each node gets its commands in one round
// trip and the nodes work at once; on a ring one GET per key, pipelined. A key that holds a history or
// another Redis type has Found false, as MGET reports it.
func (s *Store) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	return s.getMultiVia(ctx, keys, s.serverGetMulti)
}

// getMultiVia is GetMulti with the keys read by read, such as through a
// client-side cache, which fills vals and returns the client's error.
func (s *Store) getMultiVia(ctx context.Context, keys []string, read func(ctx context.Context, keys []string, vals []kv.Value) error) (_ []kv.Value, err error) {
	defer s.counters.Done(metrics.OpGetMulti, &err)
	// The operation's name, for errors only: built when one occurs.
	op := func() string { return fmt.Sprintf("getmulti (%d keys)", len(keys)) }
	if err := s.life.Check(ctx); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.backend, op(), err)
	}
	vals := make([]kv.Value, len(keys))
	if len(keys) == 0 {
		return vals, nil
	}
	if err := read(ctx, keys, vals); err != nil {
		return nil, s.err(ctx, op(), err)
	}
	return vals, nil
}

// serverGetMulti reads keys from the servers into vals, as GetMulti does,
// and returns the client's error.
func (s *Store) serverGetMulti(ctx context.Context, keys []string, vals []kv.Value) error {
	if s.c.Layout() == Sharded {
		return s.getEach(ctx, keys, vals)
	}
	return s.c.MGet(ctx, s.groups(keys, MaxMGetKeys), vals)
}

// MGetLength returns the error of a reply of n values to the MGET of g,
// nil when n is right.
func MGetLength(g SlotGroup, n int) error {
	if n != len(g.Keys) {
		return fmt.Errorf("%w: MGET returned %d values for %d keys", errUnexpected, n, len(g.Keys))
	}
	return nil
}

// getEach reads keys with one pipelined GET each.
func (s *Store) getEach(ctx context.Context, keys []string, vals []kv.Value) error {
	b := newBatch(len(keys))
	defer b.free()
	for i, k := range keys {
		b.cmds[i] = Cmd{Name: "GET", Key: k, ReadOnly: true}
	}
	s.c.DoMulti(ctx, b.cmds, b.replies)
	for i, r := range b.replies {
		switch {
		case r.Err == nil:
			vals[i] = kv.Value{Data: r.Bytes(), Found: true}
		case r.Nil, s.isWrongType(r.Err):
			// missing, as MGET reports it
		default:
			return r.Err
		}
	}
	return nil
}

// groups splits keys into the key lists of commands that each take keys of
// one hash slot, at most max of them: by hash slot on a cluster, one key
// each on a ring, all together on one server. Pos[i] of a group is the
// index in keys of its Keys[i].
func (s *Store) groups(keys []string, max int) []SlotGroup {
	var groups []SlotGroup
	switch s.c.Layout() {
	case Cluster:
		groups = GroupBySlot(keys)
	case Sharded:
		groups = make([]SlotGroup, len(keys))
		pos := identity(len(keys))
		for i := range keys {
			groups[i] = SlotGroup{Keys: keys[i : i+1 : i+1], Pos: pos[i : i+1 : i+1]}
		}
		return groups
	default:
		groups = []SlotGroup{{Keys: keys, Pos: identity(len(keys))}}
	}
	if !slices.ContainsFunc(groups, func(g SlotGroup) bool { return len(g.Keys) > max }) {
		return groups
	}
	var out []SlotGroup
	for _, g := range groups {
		for lo := 0; lo < len(g.Keys); lo += max {
			hi := min(lo+max, len(g.Keys))
			out = append(out, SlotGroup{Slot: g.Slot, Keys: g.Keys[lo:hi:hi], Pos: g.Pos[lo:hi:hi]})
		}
	}
	return out
}

// setSlotKeys sets the SlotKey of each of cmds, cmds[i] being the command
// of the keys of groups[i] (groups from s.groups or s.newBulk), on a
// cluster, where those groups are by hash slot; elsewhere it does nothing.
func (s *Store) setSlotKeys(cmds []Cmd, groups []SlotGroup) {
	if s.c.Layout() != Cluster {
		return
	}
	for i, g := range groups {
		cmds[i].SlotKey = SlotKey(g.Slot)
	}
}

// identityPos is 0, 1, 2, ... up to MaxMGetKeys: the positions of a group
// of every key of a call, which never change.
var identityPos = positions(MaxMGetKeys)

// identity returns the positions 0 to n-1, read-only: shared for up to
// MaxMGetKeys, made for more.
func identity(n int) []int {
	if n <= len(identityPos) {
		return identityPos[:n:n]
	}
	return positions(n)
}

// positions returns a new list of 0 to n-1.
func positions(n int) []int {
	pos := make([]int, n)
	for i := range pos {
		pos[i] = i
	}
	return pos
}

// GetMultiVia is s's GetMulti with the keys read by read, such as through a
// client-side cache, which fills vals and returns the client's error.
func GetMultiVia(ctx context.Context, s *Store, keys []string, read func(ctx context.Context, keys []string, vals []kv.Value) error) ([]kv.Value, error) {
	return s.getMultiVia(ctx, keys, read)
}

// ServerGetMulti reads keys from s's servers into vals, as GetMulti does,
// and returns the client's error.
func ServerGetMulti(ctx context.Context, s *Store, keys []string, vals []kv.Value) error {
	return s.serverGetMulti(ctx, keys, vals)
}

// MGetGroups splits keys into the groups of s's MGETs: by hash slot on a
// cluster, at most MaxMGetKeys each.
func MGetGroups(s *Store, keys []string) []SlotGroup { return s.groups(keys, MaxMGetKeys) }
