package benchmarks

// BenchmarkConfigResync measures a configstore.Store's resync at scale (the
// issue "Config store at scale"): 50,000 config keys under one prefix, all
// cached, on one redis-server of its own, for each Redis backend. Each
// iteration kills the store's subscription (CLIENT KILL TYPE pubsub) and,
// in the same pipeline, before the store can subscribe again, changes keys
// with one Lua script, so that their change events are lost: every key
// (changed=all) or only the three probe keys below (changed=3). From the
// moment the subscription is back (PUBSUB NUMPAT polled every millisecond)
// it measures:
//
//   - resync-ms: until every key was re-read: the kv.Store under the
//     configstore.Store counts the keys its Latest and LatestMulti return;
//     with changed=all, until then every key's CachedVersion holds its new
//     version;
//   - fetch-ms: until Fetch of a key changed during the drop returns the
//     new value (polled: Fetch reads through or hits a re-read key);
//   - watch-ms: until the watcher of a key changed during the drop is
//     called with the new value;
//   - live-ms: from a change written just after the subscription is back,
//     mid-resync, to its watcher's call;
//   - reconnect-ms: from the kill to the subscription being back;
//   - cpu-ms and redis-cpu-ms: the CPU time the benchmark's process (the
//     configstore.Store, its backend, and the polling) and the redis-server
//     spent from the kill until every key was re-read: figures that a busy
//     machine disturbs less than the times above.
//
// Run it with -benchtime=3x or so: one iteration takes a few seconds. The
// figures are per iteration, averaged; ns/op is the whole iteration.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// resyncKeys is how many config keys the Store caches.
const resyncKeys = 50000

// resyncBound bounds each wait of the benchmark: a hang, not a target.
const resyncBound = 60 * time.Second

// resyncValue is the value of every key: N is the change that wrote it.
type resyncValue struct {
	N int `json:"n"`
}

// resyncPushScript appends ARGV[3] to the lists ARGV[1]..0 to
// ARGV[1]..ARGV[2]-1, in one atomic step.
const resyncPushScript = `for i = 0, tonumber(ARGV[2]) - 1 do redis.call('RPUSH', ARGV[1] .. i, ARGV[3]) end return 1`

func BenchmarkConfigResync(b *testing.B) {
	for _, impl := range []string{"goredis", "rueidiskv"} {
		for _, all := range []bool{false, true} {
			name := impl + "/changed=3"
			if all {
				name = impl + "/changed=all"
			}
			b.Run(name, func(b *testing.B) { benchResync(b, impl, all) })
		}
	}
}

// resyncStore is what a configstore.Store needs of a kv.Store.
type resyncStore interface {
	kv.Store
	kv.Historian
	kv.Watcher
}

// countingStore counts the keys whose latest entry it returned.
type countingStore struct {
	resyncStore
	read atomic.Int64
}

func (c *countingStore) Latest(ctx context.Context, key string) ([]byte, int64, error) {
	v, version, err := c.resyncStore.Latest(ctx, key)
	c.read.Add(1)
	return v, version, err
}

// LatestMulti is left out for a configstore without batched re-reads.
func (c *countingStore) LatestMulti(ctx context.Context, keys []string) ([]kv.LatestValue, error) {
	out, err := kv.LatestMulti(ctx, c.resyncStore, keys)
	c.read.Add(int64(len(keys)))
	return out, err
}

// resyncWatch records the versions a watcher was called with, and when.
type resyncWatch struct {
	mu   sync.Mutex
	want int64
	at   time.Time
	seen chan struct{}
}

func (w *resyncWatch) expect(version int64) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.want, w.seen = version, make(chan struct{})
	return w.seen
}

func (w *resyncWatch) fn(ev configstore.Event[resyncValue]) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen != nil && ev.Kind == configstore.Updated && ev.Version >= w.want {
		w.at = time.Now()
		close(w.seen)
		w.seen = nil
	}
}

func (w *resyncWatch) when() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.at
}

func benchResync(b *testing.B, impl string, all bool) {
	srv := redistest.Start(b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*resyncBound)
	defer cancel()
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	b.Cleanup(func() { _ = rc.Close() })

	const prefix = "cfg:"
	enc := codec.JSON[resyncValue](nil)
	value := func(n int) string {
		v, err := enc.Encode(resyncValue{N: n})
		if err != nil {
			b.Fatal(err)
		}
		return string(v)
	}
	if err := rc.Eval(ctx, resyncPushScript, nil, prefix+"k", resyncKeys, value(1)).Err(); err != nil {
		b.Fatalf("writing %d keys: %v", resyncKeys, err)
	}

	var inner resyncStore
	switch impl {
	case "goredis":
		inner = goredis.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), &goredis.Options{CloseClient: true})
	case "rueidiskv":
		s, err := rueidiskv.Open(ctx, rueidis.ClientOption{InitAddress: []string{srv.Addr()}}, nil)
		if err != nil {
			b.Fatalf("rueidiskv.Open: %v", err)
		}
		inner = s
	}
	b.Cleanup(func() { _ = inner.Close() })
	store := &countingStore{resyncStore: inner}
	core, logs := observer.New(zapcore.WarnLevel)
	cs, err := configstore.New[resyncValue](ctx, store, &configstore.Options[resyncValue]{Prefix: prefix, Logger: zap.New(core)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cs.Close() })

	keys := make([]string, resyncKeys)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	// Fill the cache, from a few goroutines.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := g; i < len(keys); i += 16 {
				if _, _, err := cs.Fetch(ctx, keys[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatalf("filling the cache: %v", err)
	}

	fetchKey, watchKey, liveKey := keys[len(keys)-1], keys[len(keys)/2], keys[len(keys)/3]
	var watchRec, liveRec resyncWatch
	for _, w := range []struct {
		key string
		rec *resyncWatch
	}{{watchKey, &watchRec}, {liveKey, &liveRec}} {
		stop, err := cs.Watch(ctx, w.key, w.rec.fn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(stop)
	}
	waitSubscribed(ctx, b, rc, time.Now())

	var resync, fetch, watch, live, reconnect, cpu, redisCPU time.Duration
	version := int64(1)
	liveVersion := int64(1)
	b.ResetTimer()
	for i := range b.N {
		n := i + 2
		version++
		liveVersion += 2
		watchSeen := watchRec.expect(version)
		liveSeen := liveRec.expect(liveVersion)

		read0 := store.read.Load()
		cpu0, redis0 := processCPU(b), serverCPU(ctx, b, rc)
		killed := time.Now()
		push := []string{"EVAL", resyncPushScript, "0", prefix + "k", strconv.Itoa(resyncKeys), value(n)}
		if !all {
			push = []string{"EVAL", resyncPushKeysScript, "3", prefix + fetchKey, prefix + watchKey, prefix + liveKey, value(n)}
		}
		resyncKillAndPush(b, srv.Addr(), push)
		back := waitSubscribed(ctx, b, rc, killed)
		reconnect += back.Sub(killed)

		// A change mid-resync, to a watched key.
		liveAt := time.Now()
		if err := rc.RPush(ctx, prefix+liveKey, value(-n)).Err(); err != nil {
			b.Fatal(err)
		}
		// Fetch of a key changed during the drop.
		for {
			_, v, err := cs.Fetch(ctx, fetchKey)
			if err != nil {
				b.Fatal(err)
			}
			if v == version {
				fetch += time.Since(back)
				break
			}
			if time.Since(back) > resyncBound {
				b.Fatalf("Fetch(%s) still returns version %d, want %d", fetchKey, v, version)
			}
			time.Sleep(100 * time.Microsecond)
		}
		// Every key re-read.
		for store.read.Load()-read0 < resyncKeys {
			if time.Since(back) > resyncBound {
				b.Fatalf("%d keys re-read after %v, want %d", store.read.Load()-read0, resyncBound, resyncKeys)
			}
			time.Sleep(time.Millisecond)
		}
		// And applied: each poll goes on from the first key not yet seen
		// at its new version, so that the polls cost about one
		// CachedVersion per key in all.
		for next := 0; all && next < len(keys); {
			k := keys[next]
			want := version
			if k == liveKey {
				want = liveVersion
			}
			v, _ := cs.CachedVersion(k)
			if v >= want {
				next++
				continue
			}
			if time.Since(back) > resyncBound {
				b.Fatalf("the cache of %s holds version %d after %v, want %d", k, v, resyncBound, want)
			}
			time.Sleep(time.Millisecond)
		}
		resync += time.Since(back)
		cpu += processCPU(b) - cpu0
		redisCPU += serverCPU(ctx, b, rc) - redis0
		for _, ch := range []<-chan struct{}{watchSeen, liveSeen} {
			select {
			case <-ch:
			case <-time.After(resyncBound):
				b.Fatal("a watcher was not called")
			}
		}
		watch += watchRec.when().Sub(back)
		live += liveRec.when().Sub(liveAt)
	}
	b.StopTimer()
	for _, e := range logs.All() {
		b.Logf("logged: %s %v", e.Message, e.ContextMap())
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(b.N) }
	b.ReportMetric(per(resync), "resync-ms")
	b.ReportMetric(per(fetch), "fetch-ms")
	b.ReportMetric(per(watch), "watch-ms")
	b.ReportMetric(per(live), "live-ms")
	b.ReportMetric(per(reconnect), "reconnect-ms")
	b.ReportMetric(per(cpu), "cpu-ms")
	b.ReportMetric(per(redisCPU), "redis-cpu-ms")
}

// processCPU returns the CPU time the process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU returns the CPU time the redis-server has used, user and
// system, from INFO cpu.
func serverCPU(ctx context.Context, b *testing.B, rc *redis.Client) time.Duration {
	info, err := rc.Info(ctx, "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		name, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (name == "used_cpu_user" || name == "used_cpu_sys") {
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				b.Fatalf("INFO cpu %s: %q", name, val)
			}
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// waitSubscribed polls PUBSUB NUMPAT until a pattern subscription is back
// and returns when it saw it.
func waitSubscribed(ctx context.Context, b *testing.B, rc *redis.Client, since time.Time) time.Time {
	for {
		n, err := rc.Do(ctx, "PUBSUB", "NUMPAT").Int64()
		if err != nil {
			b.Fatal(err)
		}
		if n > 0 {
			return time.Now()
		}
		if time.Since(since) > resyncBound {
			b.Fatalf("no pattern subscription after %v", resyncBound)
		}
		time.Sleep(time.Millisecond)
	}
}

// resyncPushKeysScript appends ARGV[1] to the lists KEYS.
const resyncPushKeysScript = `for _, k in ipairs(KEYS) do redis.call('RPUSH', k, ARGV[1]) end return 1`

// resyncKillAndPush sends, in one write on a new connection, CLIENT KILL
// TYPE pubsub and push, a script that appends to keys: the server runs the
// script right after the kill, before the subscriber can be back, so that
// its events are lost.
func resyncKillAndPush(b *testing.B, addr string, push []string) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(resyncBound))
	var sb strings.Builder
	for _, args := range [][]string{
		{"CLIENT", "KILL", "TYPE", "pubsub"},
		push,
	} {
		fmt.Fprintf(&sb, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&sb, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err := conn.Write([]byte(sb.String())); err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReader(conn)
	for _, what := range []string{"CLIENT KILL", "EVAL"} {
		line, err := r.ReadString('\n')
		if err != nil {
			b.Fatalf("%s: %v", what, err)
		}
		if !strings.HasPrefix(line, ":") || what == "CLIENT KILL" && strings.TrimSpace(line) == ":0" {
			b.Fatalf("%s replied %q", what, line)
		}
	}
}
