package benchmarks

// Target P12 of the design: "a config change written by another client
// reaches watchers p99 ≤ 50 ms; 5k changes/s for 10 s lose nothing (final
// state equals the server's)".
//
// BenchmarkConfigPropagation measures the first half: a configstore.Store
// watches one key, and another client (a go-redis client of its own on
// Redis; the kv.Store itself, not the configstore.Store, for memory; a
// second postgres store over a pool of its own on PostgreSQL) appends a
// new version; the time from just before the write to the callback
// receiving that version is one sample. One write at a time. It reports
// p50-ms and p99-ms, and the mean as ns/op. benchmarks/ratios shows p50
// and p99 of each Redis backend and of postgres against the 50 ms target.
// The postgres target is skipped when pgtest finds no PostgreSQL server,
// unless STOREKIT_REQUIRE_POSTGRES=1.
//
// TestConfigThroughput checks the second half (and runs in CI): another
// client appends 5,000 changes per second for 10 s over 20 keys, paced, to
// a configstore.Store that watches and has fetched every key; after the last
// write, each key's Fetch, CachedVersion and its watcher's last event must
// come to equal the server's LLEN and LINDEX -1, within a generous hang
// bound. A key that does not is lost, and fails the test. It logs the
// figures on a line that starts with "P12 throughput". Timings are reported,
// never asserted.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// configImpls are the backends a configstore.Store runs on in
// TestConfigThroughput, and propagationImpls those of
// BenchmarkConfigPropagation: the same and postgres.
var (
	configImpls      = []string{"memory", "goredis", "rueidiskv"}
	propagationImpls = slices.Concat(configImpls, []string{"postgres"})
)

// cfgValue is the configuration value of these benchmarks: N numbers the
// change that wrote it.
type cfgValue struct {
	N int `json:"n"`
}

// cfgCodec encodes values as configstore does by default.
var cfgCodec = codec.JSON[cfgValue](nil)

func encodeCfg(tb testing.TB, n int) []byte {
	b, err := cfgCodec.Encode(cfgValue{N: n})
	if err != nil {
		tb.Fatalf("encode: %v", err)
	}
	return b
}

// Hang bounds, never timing assertions.
const (
	propagationBound = 10 * time.Second // one change reaching the watcher
	convergeBound    = 30 * time.Second // every key converging after the last write
	setupBound       = 30 * time.Second
)

// A configTarget is the kv.Store that a configstore.Store runs on, and
// another client over the same data that writes and reads without going
// through either.
type configTarget struct {
	impl   string
	store  kv.Store
	prefix string                 // of every key, so that keys are the test's own
	logger *zap.Logger            // for the stores: warnings and above
	log    *observer.ObservedLogs // what they logged

	// push appends vals[i] to the history of keys[i] (full keys), in order:
	// RPUSH on Redis (pipelined when there are several), Append on memory
	// and on PostgreSQL (one call per key).
	push func(ctx context.Context, keys []string, vals [][]byte) error
	// state returns the server's LLEN and LINDEX -1 of key (a full key),
	// or the version and value that Latest reads on memory and PostgreSQL.
	state func(ctx context.Context, key string) (version int64, last []byte, err error)
}

// newConfigTarget returns the target of impl; everything it holds is
// closed, and the keys it wrote are deleted, when tb ends. Redis targets use
// a redis-server of redistest.New; postgres a schema of its own on the
// server of pgtest, dropped when tb ends.
func newConfigTarget(tb testing.TB, impl string) *configTarget {
	tb.Helper()
	core, logs := observer.New(zapcore.WarnLevel)
	logger := zap.New(core)
	tg := &configTarget{impl: impl, prefix: randomPrefix() + "config:", logger: logger, log: logs}
	switch impl {
	case "memory":
		s := memory.New(nil)
		tb.Cleanup(func() { _ = s.Close() })
		tg.store = s
		tg.push = func(ctx context.Context, keys []string, vals [][]byte) error {
			for i, key := range keys {
				if _, err := s.Append(ctx, key, vals[i]); err != nil {
					return err
				}
			}
			return nil
		}
		tg.state = func(ctx context.Context, key string) (int64, []byte, error) {
			last, version, err := s.Latest(ctx, key)
			return version, last, err
		}
		return tg
	case "postgres":
		postgresConfigTarget(tb, tg)
		return tg
	case "goredis", "rueidiskv":
	default:
		tb.Fatalf("unknown implementation %q", impl)
	}

	addr := redistest.New(tb).Addr()
	w := newGoredisClient(tb, addr)
	tb.Cleanup(func() { // after the store: see below
		ctx, cancel := context.WithTimeout(context.Background(), setupBound)
		defer cancel()
		var keys []string
		iter := w.Scan(ctx, 0, tg.prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		for chunk := range slices.Chunk(keys, 1000) {
			_ = w.Del(ctx, chunk...).Err()
		}
	})
	tg.push = func(ctx context.Context, keys []string, vals [][]byte) error {
		if len(keys) == 1 {
			return w.RPush(ctx, keys[0], vals[0]).Err()
		}
		cmds, err := w.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, key := range keys {
				p.RPush(ctx, key, vals[i])
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, c := range cmds {
			if err := c.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	tg.state = func(ctx context.Context, key string) (int64, []byte, error) {
		var (
			n    *redis.IntCmd
			last *redis.StringCmd
		)
		_, err := w.TxPipelined(ctx, func(p redis.Pipeliner) error {
			n = p.LLen(ctx, key)
			last = p.LIndex(ctx, key, -1)
			return nil
		})
		if err != nil {
			return 0, nil, err
		}
		v, err := last.Bytes()
		return n.Val(), v, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), setupBound)
	defer cancel()
	switch impl {
	case "goredis":
		tg.store = goredis.New(newGoredisClient(tb, addr), &goredis.Options{Logger: logger})
	case "rueidiskv":
		// Client-side caching on: rueidiskv.Open makes a Cache of the
		// default size unless told not to.
		s, err := rueidiskv.Open(ctx, rueidis.ClientOption{InitAddress: []string{addr}}, &rueidiskv.Options{Options: redisconf.Options{Logger: logger}})
		if err != nil {
			tb.Fatalf("rueidiskv.Open(%s): %v", addr, err)
		}
		tg.store = s
	}
	tb.Cleanup(func() { _ = tg.store.Close() })
	return tg
}

// open returns a configstore.Store over the target's store, closed when tb
// ends (before the target).
func (tg *configTarget) open(tb testing.TB) *configstore.Store[cfgValue] {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupBound)
	defer cancel()
	cs, err := configstore.New(ctx, tg.store, &configstore.Options[cfgValue]{
		Prefix: tg.prefix,
		Logger: tg.logger,
	})
	if err != nil {
		tb.Fatalf("configstore.New over %s: %v", tg.impl, err)
	}
	tb.Cleanup(func() { _ = cs.Close() })
	return cs
}

// warnings returns the warnings logged by the stores, one a line.
func (tg *configTarget) warnings() []string {
	var out []string
	for _, e := range tg.log.All() {
		line := e.Message
		fields := e.ContextMap()
		for _, f := range e.Context {
			if f.Key == "error" || f.Key == "key" {
				line += fmt.Sprintf(" %s=%v", f.Key, fields[f.Key])
			}
		}
		out = append(out, line)
	}
	return out
}

// An arrival is what a watcher callback received, and when.
type arrival struct {
	at      time.Time
	kind    configstore.Kind
	version int64
	n       int
	err     error
}

// BenchmarkConfigPropagation measures how long a change written by another
// client takes to reach a watcher of a configstore.Store (target P12).
func BenchmarkConfigPropagation(b *testing.B) {
	for _, impl := range propagationImpls {
		b.Run("impl="+impl, func(b *testing.B) { benchPropagation(b, impl) })
	}
}

func benchPropagation(b *testing.B, impl string) {
	ctx := context.Background()
	tg := newConfigTarget(b, impl)
	const key = "propagation"
	full := tg.prefix + key
	if err := tg.push(ctx, []string{full}, [][]byte{encodeCfg(b, 1)}); err != nil {
		b.Fatalf("seed %s: %v", full, err)
	}
	cs := tg.open(b)

	arrivals := make(chan arrival, 16)
	done := make(chan struct{})
	stop, err := cs.Watch(ctx, key, func(ev configstore.Event[cfgValue]) {
		a := arrival{at: time.Now(), kind: ev.Kind, version: ev.Version, n: ev.Value.N, err: ev.Err}
		select {
		case arrivals <- a:
		case <-done:
		}
	})
	if err != nil {
		b.Fatalf("Watch: %v", err)
	}
	b.Cleanup(func() { close(done); stop() }) // before cs.Close
	if v, version, err := cs.Fetch(ctx, key); err != nil || version != 1 || v.N != 1 {
		b.Fatalf("Fetch = %+v, %d, %v; want {N:1}, 1, nil", v, version, err)
	}

	var (
		lat     []time.Duration
		version = int64(1)
		keys    = []string{full}
		vals    = [][]byte{nil}
	)
	for b.Loop() {
		version++
		vals[0] = encodeCfg(b, int(version))
		start := time.Now()
		if err := tg.push(ctx, keys, vals); err != nil {
			b.Fatalf("write version %d: %v", version, err)
		}
		timeout := time.After(propagationBound)
	wait:
		for {
			select {
			case a := <-arrivals:
				if a.kind != configstore.Updated {
					b.Fatalf("waiting for version %d: event %v, version %d, err %v", version, a.kind, a.version, a.err)
				}
				if a.version == version {
					if a.n != int(version) {
						b.Fatalf("version %d delivered with value N=%d", version, a.n)
					}
					lat = append(lat, a.at.Sub(start))
					break wait
				}
				if a.version > version {
					b.Fatalf("waiting for version %d: got version %d", version, a.version)
				}
			case <-timeout:
				b.Fatalf("version %d did not reach the watcher within %v (warnings: %q)", version, propagationBound, tg.warnings())
			}
		}
	}
	if len(lat) == 0 {
		return
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	slices.Sort(lat)
	b.ReportMetric(float64(sum.Nanoseconds())/float64(len(lat)), "ns/op")
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	if w := tg.warnings(); len(w) > 0 {
		b.Logf("%s: warnings logged: %q", impl, w)
	}
}

// percentile returns the p-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(float64(len(sorted))*p)) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// A throughputLoad is what the writer of a throughput check writes: rate
// changes per second for dur, round-robin over keys keys.
type throughputLoad struct {
	rate float64
	dur  time.Duration
	keys int
}

// p12Load is the load of target P12.
var p12Load = throughputLoad{rate: 5000, dur: 10 * time.Second, keys: 20}

// throughputBatch is the most changes the writer sends at once (pipelined)
// when it catches up with its schedule.
const throughputBatch = 500

// TestConfigThroughput is the throughput half of target P12, on every
// backend: nothing may be lost. With -short it writes for 1 s instead of 10.
func TestConfigThroughput(t *testing.T) {
	load := p12Load
	if testing.Short() {
		load.dur = time.Second
	}
	for _, impl := range configImpls {
		t.Run("impl="+impl, func(t *testing.T) {
			r := runThroughput(t, impl, load)
			t.Logf("P12 throughput impl=%s: %s", impl, r)
			if r.lost > 0 {
				t.Errorf("P12 throughput impl=%s: %d of %d keys lost (final state differs from the server's):\n%s",
					impl, r.lost, load.keys, strings.Join(r.details, "\n"))
			}
			if r.bad > 0 {
				t.Errorf("P12 throughput impl=%s: %d unexpected watcher events (Deleted, or Failed other than ErrStale):\n%s",
					impl, r.bad, strings.Join(r.badEvents, "\n"))
			}
		})
	}
}

// throughputResult is what runThroughput measured.
type throughputResult struct {
	load      throughputLoad
	written   int           // changes written
	elapsed   time.Duration // from the first write to the last one's reply
	maxLag    time.Duration // the writer's worst delay behind its schedule
	maxLagAt  time.Duration // when, from the first write
	maxWrite  time.Duration // the slowest write (one batch)
	converge  time.Duration // from the last write's reply to the last key's final callback
	lost      int           // keys whose final state differs from the server's
	callbacks int           // watcher calls, all keys
	stale     int           // Failed events matching ErrStale
	bad       int           // other unexpected events
	badEvents []string
	details   []string // one line per lost key
	warnings  []string
}

func (r throughputResult) rate() float64 { return float64(r.written) / r.elapsed.Seconds() }

func (r throughputResult) String() string {
	s := fmt.Sprintf("changes written %d over %d keys in %v, achieved rate %.0f/s (target %.0f/s), "+
		"max writer lag %v (at %v), slowest write %v; converged %v after the last write; lost %d; "+
		"watcher callbacks %d, stale events %d, store warnings %d",
		r.written, r.load.keys, r.elapsed.Round(time.Millisecond), r.rate(), r.load.rate,
		r.maxLag.Round(time.Microsecond), r.maxLagAt.Round(time.Millisecond), r.maxWrite.Round(time.Microsecond),
		r.converge.Round(time.Microsecond), r.lost, r.callbacks, r.stale, len(r.warnings))
	if r.rate() < 0.95*r.load.rate {
		s += " (NOTE: the writer fell short of the target rate, so the load was lighter than asked)"
	}
	if len(r.warnings) > 0 {
		s += fmt.Sprintf("; warnings: %q", r.warnings[:min(len(r.warnings), 5)])
	}
	return s
}

// keyWatch is the last state a watcher callback received for one key.
type keyWatch struct {
	mu      sync.Mutex
	version int64
	n       int
	at      time.Time
	calls   int
}

// runThroughput writes load through another client to keys that a
// configstore.Store watches and has fetched, then waits until the Store's
// state of every key equals the server's, at most convergeBound.
func runThroughput(t *testing.T, impl string, load throughputLoad) throughputResult {
	ctx := context.Background()
	tg := newConfigTarget(t, impl)
	r := throughputResult{load: load}

	keys := make([]string, load.keys)
	full := make([]string, load.keys)
	seed := make([][]byte, load.keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%02d", i)
		full[i] = tg.prefix + keys[i]
		seed[i] = encodeCfg(t, 0)
	}
	if err := tg.push(ctx, full, seed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	cs := tg.open(t)

	var (
		watches = make([]*keyWatch, load.keys)

		evMu      sync.Mutex // guards the three below
		stale     int
		bad       int
		badEvents []string
	)
	for i, key := range keys {
		kw := &keyWatch{}
		watches[i] = kw
		stop, err := cs.Watch(ctx, key, func(ev configstore.Event[cfgValue]) {
			now := time.Now()
			kw.mu.Lock()
			kw.calls++
			if ev.Kind == configstore.Updated {
				kw.version, kw.n, kw.at = ev.Version, ev.Value.N, now
			}
			kw.mu.Unlock()
			if ev.Kind == configstore.Updated {
				return
			}
			evMu.Lock()
			defer evMu.Unlock()
			if ev.Kind == configstore.Failed && errors.Is(ev.Err, configstore.ErrStale) {
				stale++
				return
			}
			bad++
			if len(badEvents) < 20 {
				badEvents = append(badEvents, fmt.Sprintf("%s: %v version %d err %v", key, ev.Kind, ev.Version, ev.Err))
			}
		})
		if err != nil {
			t.Fatalf("Watch(%q): %v", key, err)
		}
		t.Cleanup(stop)
		v, version, err := cs.Fetch(ctx, key)
		if err != nil || version != 1 || v.N != 0 {
			t.Fatalf("Fetch(%q) = %+v, %d, %v; want {N:0}, 1, nil", key, v, version, err)
		}
	}

	// The writer: change i (from 0) is due at start + i/rate, to key i mod
	// load.keys with value N = i+1. At each tick it sends every change
	// that is due, so it catches up after any delay and keeps the rate.
	total := int(load.rate * load.dur.Seconds())
	batchKeys := make([]string, 0, throughputBatch)
	batchVals := make([][]byte, 0, throughputBatch)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	wctx, cancel := context.WithTimeout(ctx, load.dur+convergeBound)
	defer cancel()
	start := time.Now()
	for r.written < total {
		elapsed := time.Since(start)
		due := min(total, int(elapsed.Seconds()*load.rate)+1)
		if due <= r.written {
			<-tick.C
			continue
		}
		dueAt := time.Duration(float64(r.written) / load.rate * float64(time.Second))
		if elapsed-dueAt > r.maxLag {
			r.maxLag, r.maxLagAt = elapsed-dueAt, elapsed
		}
		batchKeys, batchVals = batchKeys[:0], batchVals[:0]
		for i := r.written; i < min(due, r.written+throughputBatch); i++ {
			batchKeys = append(batchKeys, full[i%load.keys])
			batchVals = append(batchVals, encodeCfg(t, i+1))
		}
		sent := time.Now()
		if err := tg.push(wctx, batchKeys, batchVals); err != nil {
			t.Fatalf("writing changes %d to %d: %v", r.written+1, r.written+len(batchKeys), err)
		}
		r.maxWrite = max(r.maxWrite, time.Since(sent))
		r.written += len(batchKeys)
	}
	end := time.Now()
	r.elapsed = end.Sub(start)

	// The server's final state: nobody writes any more.
	type final struct {
		version int64
		n       int
	}
	want := make([]final, load.keys)
	for i := range keys {
		version, last, err := tg.state(ctx, full[i])
		if err != nil {
			t.Fatalf("server state of %s: %v", full[i], err)
		}
		v, err := cfgCodec.Decode(last)
		if err != nil {
			t.Fatalf("server's last entry of %s, %q: %v", full[i], last, err)
		}
		// Sanity of the harness: every change written is on the server.
		if wantVersion := 1 + int64(total/load.keys) + int64(boolInt(i < total%load.keys)); version != wantVersion {
			t.Fatalf("server holds %d versions of %s, the writer wrote %d", version, full[i], wantVersion)
		}
		want[i] = final{version, v.N}
	}

	// differs describes how the Store's state of key i differs from the
	// server's, or returns "".
	differs := func(i int) string {
		w := want[i]
		kw := watches[i]
		kw.mu.Lock()
		wv, wn := kw.version, kw.n
		kw.mu.Unlock()
		cv, cok := cs.CachedVersion(keys[i])
		fctx, fcancel := context.WithTimeout(ctx, setupBound)
		v, fv, ferr := cs.Fetch(fctx, keys[i])
		fcancel()
		if wv == w.version && wn == w.n && cok && cv == w.version && ferr == nil && fv == w.version && v.N == w.n {
			return ""
		}
		return fmt.Sprintf("%s: server version %d N=%d; watcher's last event version %d N=%d; CachedVersion %d (%v); Fetch version %d N=%d err %v",
			keys[i], w.version, w.n, wv, wn, cv, cok, fv, v.N, ferr)
	}
	deadline := end.Add(convergeBound)
	for {
		r.details = r.details[:0]
		for i := range keys {
			if d := differs(i); d != "" {
				r.details = append(r.details, d)
			}
		}
		if len(r.details) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	r.lost = len(r.details)
	for _, kw := range watches {
		kw.mu.Lock()
		r.callbacks += kw.calls
		r.converge = max(r.converge, kw.at.Sub(end))
		kw.mu.Unlock()
	}
	if r.lost > 0 {
		r.converge = time.Since(end) // gave up
	}
	r.warnings = tg.warnings()
	evMu.Lock()
	r.stale, r.bad, r.badEvents = stale, bad, slices.Clone(badEvents)
	evMu.Unlock()
	return r
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
