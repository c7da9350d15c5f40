package rediskv

import (
	"context"
	"fmt"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// MaxLatestKeys bounds the keys of one call of latestMultiScript.
const MaxLatestKeys = 256

// latestMultiScript reads the newest entry and the version of each key of
// KEYS, as latestScript does for one, in one atomic step: for each key, in
// order, {LLEN, LINDEX -1} of a list, {1, value} of a plain string, 0 for a
// missing key and -1 for a key of another type. It asks LLEN first, which
// answers 0 for a missing key and fails only for another type, so that a
// list, the common case, costs two calls rather than TYPE's three.
var latestMultiScript = newScript(`
local out = {}
for i, k in ipairs(KEYS) do
	local n = redis.pcall('LLEN', k)
	if type(n) == 'number' then
		if n == 0 then
			out[i] = 0
		else
			out[i] = {n, redis.call('LINDEX', k, -1)}
		end
	elseif redis.call('TYPE', k)['ok'] == 'string' then
		out[i] = {1, redis.call('GET', k)}
	else
		out[i] = -1
	end
end
return out
`)

// LatestMulti implements [kv.MultiLatest] with a Lua script that reads up
// to MaxLatestKeys keys per call, each as Latest does: on one server the
// calls for all keys go in one pipeline; on a cluster the keys are grouped
// by hash slot, one call (or more) per slot, pipelined, so that each node
// gets its calls in one round trip; on a ring one call per key, pipelined.
func (s *Store) LatestMulti(ctx context.Context, keys []string) (_ []kv.LatestValue, err error) {
	defer s.counters.Done(metrics.OpLatestMulti, &err)
	op := fmt.Sprintf("latestmulti (%d keys)", len(keys))
	if err := s.life.Check(ctx); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.backend, op, err)
	}
	out := make([]kv.LatestValue, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	groups := s.groups(keys, MaxLatestKeys)
	b := newBatch(len(groups))
	defer b.free()
	for i, g := range groups {
		b.cmds[i] = latestMultiScript.cmd(g.Keys, nil)
		b.cmds[i].ReadOnly = true
	}
	s.setSlotKeys(b.cmds, groups)
	s.doMulti(ctx, b.cmds, b.replies, latestMultiScript)
	for i, r := range b.replies {
		if r.Err != nil {
			return nil, s.err(ctx, op, r.Err)
		}
		if err := s.putLatest(groups[i], r, out); err != nil {
			return nil, s.err(ctx, op, err)
		}
	}
	return out, nil
}

// putLatest stores in out the results, r, of the script's call on g.
func (s *Store) putLatest(g SlotGroup, r Reply, out []kv.LatestValue) error {
	if r.Kind != KindArray || len(r.Array) != len(g.Keys) {
		return fmt.Errorf("%w from the script for %d keys: %+v", errUnexpected, len(g.Keys), r)
	}
	for j, e := range r.Array {
		p := g.Pos[j]
		switch {
		case e.Kind == KindInt && e.Int == 0:
			out[p] = kv.LatestValue{}
		case e.Kind == KindInt && e.Int == -1:
			out[p] = kv.LatestValue{Err: fmt.Errorf("%s: latest %s: %w", s.backend, kv.QuoteKey(g.Keys[j]), kv.ErrWrongType)}
		case e.Kind == KindArray && len(e.Array) == 2 && e.Array[0].Kind == KindInt && e.Array[1].Kind == KindStr:
			out[p] = kv.LatestValue{Value: e.Array[1].Bytes(), Version: e.Array[0].Int, Found: true}
		default:
			return fmt.Errorf("%w from the script for key %s: %+v", errUnexpected, kv.QuoteKey(g.Keys[j]), e)
		}
	}
	return nil
}
