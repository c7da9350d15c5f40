package rediskv

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// A script is a Lua script the store runs with EVALSHA, loading it with
// EVAL when the server does not know it yet.
type script struct {
	src string
	sha string
	// pre1 are EVALSHA's arguments before the key when the script runs on
	// one key: the digest and "1". The commands of every call share them.
	pre1 []string
}

func newScript(src string) *script {
	sum := sha1.Sum([]byte(src))
	sha := hex.EncodeToString(sum[:])
	return &script{src: src, sha: sha, pre1: []string{sha, "1"}}
}

// eval runs sc on key with args: EVALSHA, through the client's Script when
// it is a ConditionalClient and args are at most MaxScriptArgs, and EVAL
// once if the server answers NOSCRIPT.
func (s *Store) eval(ctx context.Context, sc *script, key string, args ...string) Reply {
	viaScript := s.cc != nil && len(args) <= MaxScriptArgs
	if viaScript {
		var a [MaxScriptArgs]string
		n := copy(a[:], args)
		if r := s.cc.Script(ctx, sc.sha, key, a, n); !noScript(r) {
			return r
		}
	}
	// A copy: args, on the caller's stack, would otherwise be moved to the
	// heap on every call, the ConditionalClient's included.
	cmd := Cmd{Name: "EVALSHA", Pre: sc.pre1, Key: key, Args: slices.Clone(args)}
	if !viaScript {
		if r := s.c.Do(ctx, cmd); !noScript(r) {
			return r
		}
	}
	return s.c.Do(ctx, sc.source(cmd))
}

// cmd returns the EVALSHA of sc on keys (at least one; on a cluster all of
// one hash slot, since the first routes the command) with args.
func (sc *script) cmd(keys, args []string) Cmd {
	return Cmd{
		Name: "EVALSHA",
		Pre:  []string{sc.sha, strconv.Itoa(len(keys))},
		Key:  keys[0],
		Args: append(slices.Clip(keys[1:]), args...),
	}
}

// source returns cmd, an EVALSHA of sc, as an EVAL that sends the script.
func (sc *script) source(cmd Cmd) Cmd {
	cmd.Name = "EVAL"
	cmd.Pre = []string{sc.src, cmd.Pre[1]}
	return cmd
}

// noScript reports whether r is the NOSCRIPT reply to an EVALSHA of a
// script the server does not know.
func noScript(r Reply) bool {
	return r.Err != nil && strings.HasPrefix(r.Err.Error(), "NOSCRIPT")
}

// doMulti sends cmds as Client.DoMulti does (a single command with Do),
// putting their replies in replies, and sends again as EVAL each EVALSHA of
// sc that the server answered NOSCRIPT. sc may be nil when cmds run no
// script.
func (s *Store) doMulti(ctx context.Context, cmds []Cmd, replies []Reply, sc *script) {
	if len(cmds) == 1 {
		r := s.c.Do(ctx, cmds[0])
		if sc != nil && noScript(r) {
			r = s.c.Do(ctx, sc.source(cmds[0]))
		}
		replies[0] = r
		return
	}
	s.c.DoMulti(ctx, cmds, replies)
	if sc == nil {
		return
	}
	var again []Cmd
	var at []int
	for i, r := range replies {
		if noScript(r) {
			again = append(again, sc.source(cmds[i]))
			at = append(at, i)
		}
	}
	if len(again) > 0 {
		retried := make([]Reply, len(again))
		s.c.DoMulti(ctx, again, retried)
		for j, r := range retried {
			replies[at[j]] = r
		}
	}
}

// The history capability ([kv.Historian]) keeps a key's versions in a Redis
// list, oldest first, newest last (RPUSH), the layout of the Python config
// store. A key that holds a plain string counts as a history of one entry.

// appendScript appends ARGV[1] to the history at KEYS[1] and returns the new
// length, which is the version of the appended value. A plain string key is
// first converted, in the same atomic step, into a list holding the old value
// as version 1 (GET, DEL, RPUSH old new): watchers see "del" then "rpush".
// A key of any other type yields a WRONGTYPE error reply.
//
// With ARGV[2], an expected version, it appends only if the latest version
// (LLEN of a list, 1 for a plain string, 0 for no key) is that one, and
// otherwise writes nothing and returns the array {latest}.
var appendScript = newScript(`
local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'string' and t ~= 'list' and t ~= 'none' then
	return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value')
end
if ARGV[2] then
	local latest = 0
	if t == 'string' then
		latest = 1
	elseif t == 'list' then
		latest = redis.call('LLEN', KEYS[1])
	end
	if latest ~= tonumber(ARGV[2]) then
		return {latest}
	end
end
if t == 'string' then
	local old = redis.call('GET', KEYS[1])
	redis.call('DEL', KEYS[1])
	return redis.call('RPUSH', KEYS[1], old, ARGV[1])
end
return redis.call('RPUSH', KEYS[1], ARGV[1])
`)

// latestScript returns the newest entry of the history at KEYS[1] with its
// version, read atomically, as the array {version, value}: {LLEN, LINDEX -1}
// for a list and {1, value} for a plain string. It returns a nil reply when
// the key does not exist and a WRONGTYPE error reply for any other type.
var latestScript = newScript(`
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'none' then
	return false
end
if t == 'string' then
	return {1, redis.call('GET', KEYS[1])}
end
if t == 'list' then
	return {redis.call('LLEN', KEYS[1]), redis.call('LINDEX', KEYS[1], -1)}
end
return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value')
`)

// pruneScript empties old entries of the history at KEYS[1] and returns how
// many it emptied. ARGV[1] is before, at least 1 (the caller checks it):
// the entries of versions below before are emptied (LSET index ""), version
// v being index v-1, never the newest (index LLEN-1). It works from the
// highest such index downward and stops at the first entry that is already
// empty, so pruning after every append empties one entry each time. Watchers
// see one "lset" per entry emptied. A missing key and a plain string are left
// alone (0); a key of any other type yields a WRONGTYPE error reply.
var pruneScript = newScript(`
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'none' or t == 'string' then
	return 0
end
if t ~= 'list' then
	return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value')
end
local i = math.min(tonumber(ARGV[1]) - 1, redis.call('LLEN', KEYS[1]) - 1) - 1
local emptied = 0
while i >= 0 and redis.call('LINDEX', KEYS[1], i) ~= '' do
	redis.call('LSET', KEYS[1], i, '')
	emptied = emptied + 1
	i = i - 1
end
return emptied
`)
