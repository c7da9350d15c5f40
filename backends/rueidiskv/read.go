package rueidiskv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/rueidis"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/kv"
)

// Bounds of the read paths.
const (
	// maxShares bounds how often a cached read shares a fetch that another
	// call then abandons (its context ended) before it reads from the
	// server without the cache.
	maxShares = 3
	// maxMGets bounds the cached MGETs a GetMulti runs at once.
	maxMGets = 16
)

// getResult turns a cached or fetched state of key into Get's result.
func (s *Store) getResult(ctx context.Context, key, val string, st state) ([]byte, error) {
	if st != stateValue {
		return nil, rediskv.KeyErr(ctx, s.redisStore, "get", key, rueidis.Nil)
	}
	return copyValue(val), nil
}

// copyValue returns a copy of a cached value, which the cache keeps; an
// empty value is a non-nil empty slice.
func copyValue(val string) []byte {
	if val == "" {
		return []byte{}
	}
	return []byte(val)
}

// cachedGet is Get through the cache: a fresh entry, or the fetch of the key
// that a concurrent read has in flight, or a fetch of its own.
func (s *Store) cachedGet(ctx context.Context, key string) ([]byte, error) {
	sh := s.cache.shard(key)
	if val, st, ok := sh.lookup(key, monoNow(), true); ok {
		sh.hits.Add(1)
		return s.getResult(ctx, key, val, st)
	}
	for range maxShares {
		val, st, f, own := sh.begin(key, monoNow(), true)
		switch {
		case f == nil:
			sh.hits.Add(1)
			return s.getResult(ctx, key, val, st)
		case own:
			sh.misses.Add(1)
			return s.fetch(ctx, sh, key, f)
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, rediskv.Fail(s.redisStore, "get", key, ctx.Err())
		}
		if f.err == nil {
			sh.hits.Add(1)
			return s.getResult(ctx, key, f.val, f.st)
		}
		if !abandoned(f.err) {
			return nil, rediskv.KeyErr(ctx, s.redisStore, "get", key, f.err)
		}
	}
	return rediskv.ServerGet(ctx, s.redisStore, key)
}

// fetch reads key with a tracked GET (CLIENT CACHING YES, MULTI, PTTL, GET,
// EXEC), ends the fetch f with the reply, and returns Get's result.
func (s *Store) fetch(ctx context.Context, sh *shard, key string, f *flight) ([]byte, error) {
	t0 := time.Now()
	c := s.a.c
	msg, err := c.DoCache(ctx, pinned(c.B().Get().Key(key).Cache()), s.cacheTTL).ToMessage()
	if s.trackedReadRefused(ctx, err) {
		// Read without tracking, and cache nothing.
		sh.poison(f)
		msg, err = c.Do(ctx, c.B().Get().Key(key).Build()).ToMessage()
	}
	val, st := "", stateMissing
	switch {
	case err == nil:
		if val, err = msg.ToString(); err == nil {
			st = stateValue
		}
	case rueidis.IsRedisNil(err):
		err = nil
	}
	if sh.finish(key, f, val, st, s.expiry(t0, time.Now(), &msg), err) {
		s.warnUnconfirmed()
	}
	if err != nil {
		return nil, rediskv.KeyErr(ctx, s.redisStore, "get", key, err)
	}
	return s.getResult(ctx, key, val, st)
}

// expiry returns when a reply must leave the cache: CacheTTL after t0, when
// its request was sent, and no later than the key expires on the server.
// The client set the reply's PXAT to the time it read the reply, no later
// than t1, plus the PTTL the server reported; the server ran PTTL no earlier
// than t0, so the key lives at least until t0 + PTTL, which is no earlier
// than t0 + (PXAT - t1).
func (s *Store) expiry(t0, t1 time.Time, msg *rueidis.RedisMessage) int64 {
	exp := mono(t0) + int64(s.cacheTTL)
	if pxat := msg.CachePXAT(); pxat > 0 && pxat != noServerExpiry {
		exp = min(exp, mono(t0)+pxat*int64(time.Millisecond)-t1.UnixNano())
	}
	return exp
}

// pinned returns cmd marked so that rueidis never recycles it. rueidis
// recycles a tracked read whose connection was lost while the connection's
// writer may not be done with it (a race the race detector reports), and a
// pinned command is left to the garbage collector instead: one allocation
// per fetch.
func pinned(cmd rueidis.Cacheable) rueidis.Cacheable {
	return rueidis.Cacheable(rueidis.Completed(cmd).Pin())
}

// trackedReadRefused reports whether err, the outcome of a tracked read
// made with ctx, is a refusal that a plain read need not meet: the server
// refused the commands a tracked read is sent in (CLIENT CACHING YES, MULTI,
// PTTL, EXEC), because it is over its maxmemory (it refuses to queue any
// command in a MULTI then) or because the user's ACL forbids one of them. The
// read is then made again without tracking; the first such refusal is
// logged.
func (s *Store) trackedReadRefused(ctx context.Context, err error) bool {
	if err == nil || rueidis.IsRedisNil(err) || ctx.Err() != nil {
		return false
	}
	switch classify(ctx, err) {
	case kv.ErrFull, kv.ErrPermission:
		if s.refusedWarned.CompareAndSwap(false, true) {
			s.log.Warn("rueidiskv: the server refused a tracked read, so such reads go to the server uncached; "+
				"on a server over its maxmemory this lasts until it has room, for a user without +multi, "+
				"+exec, +pttl or +client|caching until the ACL allows them (or set DisableCache)", zap.Error(err))
		}
		return true
	}
	// EXEC aborted for a reason rueidis does not pass on (or the
	// connection was lost, and the plain read fails too).
	return errors.Is(err, rueidis.ErrDoCacheAborted)
}

// warnUnconfirmed logs, once per cache, that the client did not confirm a
// fetch: it was built without the cache, or with DisableCache, so nothing
// can be cached.
func (s *Store) warnUnconfirmed() {
	if s.cache.warned.CompareAndSwap(false, true) {
		s.log.Warn("rueidiskv: the client does not report to the store's Cache, so reads are not cached: " +
			"build the client from the cache's ClientOption, without DisableCache")
	}
}

// GetMulti implements [kv.MultiGetter]. Keys are read with MGET, at most
// 1000 to a command; on a cluster, keys are grouped by hash slot, one MGET
// per slot. With caching on, only the keys that are not cached (nor being
// fetched by a concurrent read) are fetched, with tracked MGETs. A key that
// holds a history or another Redis type has Found false, as MGET reports
// it.
func (s *Store) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	if s.cache == nil {
		return s.redisStore.GetMulti(ctx, keys)
	}
	return rediskv.GetMultiVia(ctx, s.redisStore, keys, s.cachedGetMulti)
}

// A share is a position of a GetMulti that waits for a fetch: one of its
// own, or one it shares.
type share struct {
	pos int
	f   *flight
	own bool
}

// cachedGetMulti is GetMulti through the cache.
func (s *Store) cachedGetMulti(ctx context.Context, keys []string, vals []kv.Value) error {
	now := monoNow()
	var miss []int
	for i, k := range keys {
		sh := s.cache.shard(k)
		if val, st, ok := sh.lookup(k, now, false); ok {
			sh.hits.Add(1)
			vals[i] = cachedValue(val, st)
		} else {
			miss = append(miss, i)
		}
	}
	if len(miss) == 0 {
		return nil
	}
	var (
		owned   []string
		flights []*flight
		shares  = make([]share, 0, len(miss))
	)
	for _, i := range miss {
		k := keys[i]
		sh := s.cache.shard(k)
		val, st, f, own := sh.begin(k, now, false)
		switch {
		case f == nil:
			sh.hits.Add(1)
			vals[i] = cachedValue(val, st)
			continue
		case own:
			sh.misses.Add(1)
			owned = append(owned, k)
			flights = append(flights, f)
		}
		shares = append(shares, share{pos: i, f: f, own: own})
	}
	if err := s.fetchMulti(ctx, owned, flights); err != nil {
		return err
	}
	var again []int // positions whose shared fetch was abandoned
	for _, w := range shares {
		select {
		case <-w.f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		switch {
		case w.f.err == nil:
			vals[w.pos] = cachedValue(w.f.val, w.f.st)
			if !w.own {
				s.cache.shard(keys[w.pos]).hits.Add(1)
			}
		case abandoned(w.f.err) && !w.own:
			again = append(again, w.pos)
		default:
			return w.f.err
		}
	}
	if len(again) == 0 {
		return nil
	}
	// Rare: a concurrent call abandoned fetches this call shared. Read
	// those keys from the server.
	rest := make([]string, len(again))
	for i, pos := range again {
		rest[i] = keys[pos]
	}
	restVals := make([]kv.Value, len(rest))
	if err := rediskv.ServerGetMulti(ctx, s.redisStore, rest, restVals); err != nil {
		return err
	}
	for i, pos := range again {
		vals[pos] = restVals[i]
	}
	return nil
}

// cachedValue turns a cached or fetched state into GetMulti's result.
func cachedValue(val string, st state) kv.Value {
	if st != stateValue {
		return kv.Value{}
	}
	return kv.Value{Data: copyValue(val), Found: true}
}

// fetchMulti reads keys with tracked MGETs and ends their fetches, flights[i]
// being the fetch of keys[i]. Every fetch is ended, with the error if its
// MGET failed or did not run.
func (s *Store) fetchMulti(ctx context.Context, keys []string, flights []*flight) error {
	if len(keys) == 0 {
		return nil
	}
	groups := rediskv.MGetGroups(s.redisStore, keys)
	ended := make([]bool, len(keys))
	c := s.a.c
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(maxMGets)
	for _, g := range groups {
		eg.Go(func() error { return s.fetchGroup(ctx, c, g, flights, ended) })
	}
	err := eg.Wait()
	if err != nil {
		for i, k := range keys {
			if !ended[i] {
				s.cache.shard(k).finish(k, flights[i], "", 0, 0, err)
			}
		}
	}
	return err
}

// fetchGroup reads the keys of g with one tracked MGET and ends their
// fetches, marking each ended.
func (s *Store) fetchGroup(ctx context.Context, c redialClient, g rediskv.SlotGroup, flights []*flight, ended []bool) error {
	t0 := time.Now()
	elems, err := c.DoCache(ctx, pinned(c.B().Mget().Key(g.Keys...).Cache()), s.cacheTTL).ToArray()
	if s.trackedReadRefused(ctx, err) {
		// Read without tracking, and cache nothing.
		for j, k := range g.Keys {
			s.cache.shard(k).poison(flights[g.Pos[j]])
		}
		elems, err = c.Do(ctx, c.B().Mget().Key(g.Keys...).Build()).ToArray()
	}
	t1 := time.Now()
	if err == nil && len(elems) != len(g.Keys) {
		err = fmt.Errorf("MGET returned %d values for %d keys", len(elems), len(g.Keys))
	}
	for j, k := range g.Keys {
		val, st, exp := "", stateAbsent, int64(0)
		if err == nil {
			if !elems[j].IsNil() {
				// An MGET element is a bulk string or nil.
				val, _ = elems[j].ToString()
				st = stateValue
			}
			exp = s.expiry(t0, t1, &elems[j])
		}
		p := g.Pos[j]
		if s.cache.shard(k).finish(k, flights[p], val, st, exp, err) {
			s.warnUnconfirmed()
		}
		ended[p] = true
	}
	return err
}
