package rueidiskv_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/internal/staleread"
	"github.com/cledar/storekit/kv"
)

// missing is the value a history records for a missing key: the
// initial state and, with a suffix, each deletion.
const missing = "\x00missing"

// The read-your-own-writes stress test's shape.
const (
	ryowWorkers    = 8
	ryowIterations = 1500 // per worker
	ryowHotKeys    = 3
)

// A history of a register (one key): every write and read, each with the
// interval of a global event counter in which it ran. A read is stale when
// the value it returned had been overwritten, entirely, before the read
// began: some write W started after the returned value's write ended, and
// ended before the read started.
type history struct {
	mu     sync.Mutex
	writes map[string][2]int64 // value -> [start, end]
	reads  []readEvent
}

type readEvent struct {
	start, end int64
	value      string
	who        int
}

func newHistory(initial string) *history {
	return &history{writes: map[string][2]int64{initial: {0, 0}}}
}

func (h *history) wrote(value string, start, end int64) {
	h.mu.Lock()
	h.writes[value] = [2]int64{start, end}
	h.mu.Unlock()
}

func (h *history) read(value string, start, end int64, who int) {
	h.mu.Lock()
	h.reads = append(h.reads, readEvent{start, end, value, who})
	h.mu.Unlock()
}

// stale returns the reads that returned a value overwritten before they
// began, and an error for a read of a value that was never written.
func (h *history) stale() ([]readEvent, error) {
	calls := make([]staleread.Call, 0, len(h.writes))
	for _, iv := range h.writes {
		calls = append(calls, staleread.Call{Start: iv[0], End: iv[1]})
	}
	ws := staleread.New(calls)
	var stale []readEvent
	for _, r := range h.reads {
		if r.value == missing {
			r.value = h.latestMissing(r.end)
		}
		src, ok := h.writes[r.value]
		if !ok {
			return nil, fmt.Errorf("read %q, which was never written", r.value)
		}
		if _, replaced := ws.Replaced(staleread.Call{Start: src[0], End: src[1]}, r.start); replaced {
			stale = append(stale, r)
		}
	}
	return stale, nil
}

// TestReadYourOwnWrites stresses the cache's read-your-own-writes: worker
// goroutines each write a new value (Set, SetWithTTL or Delete) to a key,
// then read it at once (Get, GetMulti or GetDecoded), on a few hot keys they share and
// on keys of their own, with every read also warming the cache for the
// others. Every read is checked against the history of its key: none may
// return a value that had been overwritten before the read began. On the
// workers' own keys that means a read returns exactly the worker's last
// write. Appends check that a write turning a key into a history is seen.
func TestReadYourOwnWrites(t *testing.T) {
	srv := realRedis(t)
	s := openStore(t, srv.Addr(), nil)
	ctx := testContext(t)
	prefix := fmt.Sprintf("ryow:%d:", time.Now().UnixNano())

	hot := make([]string, ryowHotKeys)
	hist := make(map[string]*history)
	for i := range hot {
		hot[i] = prefix + "hot:" + strconv.Itoa(i)
		if _, err := s.Delete(ctx, hot[i]); err != nil {
			t.Fatal(err)
		}
		hist[hot[i]] = newHistory(missing)
	}
	own := make([]string, ryowWorkers)
	for w := range own {
		own[w] = prefix + "own:" + strconv.Itoa(w)
		hist[own[w]] = newHistory(missing)
	}
	t.Cleanup(func() {
		for k := range hist {
			_, _ = s.Delete(context.Background(), k)
		}
	})

	var (
		clock   atomic.Int64 // the global event counter
		reads   atomic.Int64
		wrongTy atomic.Int64
		wg      sync.WaitGroup
		errs    = make(chan error, ryowWorkers)
	)
	before := s.Stats()
	for w := range ryowWorkers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 42))
			fail := func(err error) { errs <- fmt.Errorf("worker %d: %w", w, err) }
			for i := range ryowIterations {
				key := own[w]
				if r.IntN(2) == 0 {
					key = hot[r.IntN(len(hot))]
				}
				h := hist[key]
				// Write.
				value := fmt.Sprintf("w%d.%d", w, i)
				start := clock.Add(1)
				var err error
				switch r.IntN(8) {
				case 0:
					value = fmt.Sprintf("%s.deleted.%d.%d", missing, w, i)
					_, err = s.Delete(ctx, key)
				case 1:
					err = s.SetWithTTL(ctx, key, []byte(value), time.Hour)
				default:
					err = s.Set(ctx, key, []byte(value))
				}
				if err != nil {
					fail(err)
					return
				}
				h.wrote(value, start, clock.Add(1))
				// Read it back, then maybe read another key, which warms
				// the cache for the other workers.
				for _, k := range []string{key, hot[r.IntN(len(hot))]} {
					got, err := readKey(ctx, s, k, readMode(r.IntN(4)), &clock, hist[k], w)
					if err != nil {
						fail(err)
						return
					}
					if k == own[w] && got != value && !(strings.HasPrefix(got, missing) && strings.HasPrefix(value, missing)) {
						fail(fmt.Errorf("iteration %d: read %q from its own key after writing %q", i, got, value))
						return
					}
					reads.Add(1)
				}
				// Now and then, turn the own key into a history: a Get
				// must then say so, not serve the cached value.
				if key == own[w] && i%50 == 0 {
					if _, err := s.Append(ctx, key, []byte("entry")); err != nil {
						fail(err)
						return
					}
					if _, err := s.Get(ctx, key); !errors.Is(err, kv.ErrWrongType) {
						fail(fmt.Errorf("iteration %d: Get after Append: err = %v, want kv.ErrWrongType", i, err))
						return
					}
					if _, err := s.GetDecoded(ctx, key, decodedTag, decodeString); !errors.Is(err, kv.ErrWrongType) {
						fail(fmt.Errorf("iteration %d: GetDecoded after Append: err = %v, want kv.ErrWrongType", i, err))
						return
					}
					wrongTy.Add(1)
					start := clock.Add(1)
					if _, err := s.Delete(ctx, key); err != nil {
						fail(err)
						return
					}
					h.wrote(fmt.Sprintf("%s.histdel.%d.%d", missing, w, i), start, clock.Add(1))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	staleCount := 0
	for k, h := range hist {
		stale, err := h.stale()
		if err != nil {
			t.Errorf("key %q: %v", k, err)
		}
		for _, r := range stale {
			if staleCount++; staleCount <= 10 {
				t.Errorf("key %q: worker %d read %q at [%d,%d], overwritten before it began", k, r.who, r.value, r.start, r.end)
			}
		}
	}
	st := s.Stats()
	t.Logf("read-your-own-writes: %d workers x %d iterations on %d hot keys and %d own keys: %d writes, %d reads, %d history checks, %d stale reads; cache: %d hits, %d misses, %d invalidations",
		ryowWorkers, ryowIterations, ryowHotKeys, ryowWorkers, ryowWorkers*ryowIterations, reads.Load(), wrongTy.Load(), staleCount,
		st.Hits-before.Hits, st.Misses-before.Misses, st.Invalidations-before.Invalidations)
	if staleCount != 0 {
		t.Errorf("%d stale reads, want 0", staleCount)
	}
	if st.Hits == before.Hits {
		t.Error("no read hit the cache: the test did not exercise it")
	}
}

// How readKey reads.
type readMode int

const (
	readGet     readMode = iota
	readGetMore          // Get again: half the reads are Gets
	readMulti            // GetMulti
	readDecoded          // GetDecoded, which keeps the value it decodes beside the bytes
)

// decodedTag is the tag of readKey's GetDecoded.
var decodedTag = new(int)

// decodeString is readKey's decoder for GetDecoded: the bytes as a string.
func decodeString(b []byte) (any, int, error) { return string(b), len(b), nil }

// readKey reads key with Get, GetMulti or GetDecoded, records the read in
// h, and returns the value read (missing-prefixed when the key was
// missing).
func readKey(ctx context.Context, s *rueidiskv.Store, key string, mode readMode, clock *atomic.Int64, h *history, who int) (string, error) {
	start := clock.Add(1)
	var (
		got   string
		found bool
	)
	switch mode {
	case readMulti:
		vals, err := s.GetMulti(ctx, []string{key, key + ":other"})
		if err != nil {
			return "", err
		}
		got, found = string(vals[0].Data), vals[0].Found
	case readDecoded:
		v, err := s.GetDecoded(ctx, key, decodedTag, decodeString)
		switch {
		case err == nil:
			got, found = v.(string), true
		case !errors.Is(err, kv.ErrNotFound):
			return "", err
		}
	default:
		b, err := s.Get(ctx, key)
		switch {
		case err == nil:
			got, found = string(b), true
		case !errors.Is(err, kv.ErrNotFound):
			return "", err
		}
	}
	end := clock.Add(1)
	if !found {
		got = missing // resolved by history.stale
	}
	h.read(got, start, end, who)
	return got, nil
}

// latestMissing returns, of the "missing" values (the deletions, and the
// initial state) whose writes started before end, the one whose write ended
// last: any of them explains a read that found no key, and this one is the
// least likely to be stale for a read that ended at end.
func (h *history) latestMissing(end int64) string {
	best, bestEnd := missing, int64(-1)
	for v, iv := range h.writes {
		if strings.HasPrefix(v, missing) && iv[0] < end && iv[1] > bestEnd {
			best, bestEnd = v, iv[1]
		}
	}
	return best
}

// TestOtherClientsWrites: a write by a second raw rueidis client, or by
// redis-cli, to a key the store has cached is seen by the store once the
// server's invalidation arrives. The test measures the lag, from the outside
// write returning to the first read through the store that returns the new
// value, polling tightly (yielding between reads), and checks each is under
// a second. The reads are Gets, and GetDecoded calls (whose decoded value
// must go with the bytes).
func TestOtherClientsWrites(t *testing.T) {
	srv, s, other, key := outsideWriter(t, "other")
	ctx := testContext(t)

	get := func() (string, error) {
		b, err := s.Get(ctx, key)
		return string(b), err
	}
	getDecoded := func() (string, error) {
		v, err := s.GetDecoded(ctx, key, decodedTag, decodeString)
		if err != nil {
			return "", err
		}
		return v.(string), nil
	}
	measure := func(t *testing.T, writes int, write func(value string) error) {
		t.Run("Get", func(t *testing.T) { measureLag(ctx, t, s, key, writes, write, get) })
		t.Run("GetDecoded", func(t *testing.T) { measureLag(ctx, t, s, key, writes, write, getDecoded) })
	}

	t.Run("RueidisClient", func(t *testing.T) {
		measure(t, 500, func(value string) error {
			return other.Do(ctx, other.B().Set().Key(key).Value(value).Build()).Error()
		})
	})
	t.Run("RedisCli", func(t *testing.T) {
		cli, err := exec.LookPath("redis-cli")
		if err != nil {
			t.Skipf("redis-cli is not on PATH: %v", err)
		}
		host, port := backendtest.SplitHostPort(t, srv.Addr())
		measure(t, 100, func(value string) error {
			args := []string{"-h", host, "-p", strconv.Itoa(port)}
			if pw := srv.Password(); pw != "" {
				args = append(args, "-a", pw, "--no-auth-warning")
			}
			out, err := exec.CommandContext(ctx, cli, append(args, "SET", key, value)...).CombinedOutput()
			if err == nil && strings.TrimSpace(string(out)) != "OK" {
				err = fmt.Errorf("redis-cli SET: %q", out)
			}
			return err
		})
	})
}

// measureLag is TestOtherClientsWrites's measure: writes times, it sets key
// through s, reads it twice with get (caching it), writes a new value with
// write, and polls with get until it returns the new value, failing if it
// returns anything else or takes a second.
func measureLag(ctx context.Context, t *testing.T, s *rueidiskv.Store, key string, writes int, write func(value string) error, get func() (string, error)) {
	t.Helper()
	before := s.Stats()
	lags := make([]time.Duration, 0, writes)
	for i := range writes {
		old := fmt.Sprintf("old-%d", i)
		if err := s.Set(ctx, key, []byte(old)); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second read is a cache hit
			if v, err := get(); err != nil || v != old {
				t.Fatalf("read %q, %v; want %q", v, err, old)
			}
		}
		value := fmt.Sprintf("new-%d", i)
		if err := write(value); err != nil {
			t.Fatal(err)
		}
		written := time.Now()
		for {
			v, err := get()
			if err != nil {
				t.Fatal(err)
			}
			if v == value {
				lags = append(lags, time.Since(written))
				break
			}
			if v != old {
				t.Fatalf("read %q, want %q or %q", v, old, value)
			}
			if time.Since(written) > time.Second {
				t.Fatalf("write %d: the store still serves %q a second after another client wrote %q", i, old, value)
			}
			// Poll tightly, but let the connection's reader run: on
			// two cores a spinning poller would otherwise hold it off
			// until the scheduler preempts it (10 ms).
			runtime.Gosched()
		}
	}
	st := s.Stats()
	slices.Sort(lags)
	t.Logf("%d outside writes: invalidation lag p50 %v, p99 %v, max %v (cache: %d invalidations, %d hits)",
		writes, lags[len(lags)/2], lags[len(lags)*99/100], lags[len(lags)-1],
		st.Invalidations-before.Invalidations, st.Hits-before.Hits)
}

// TestLostConnection: after the store's connections are killed, or the
// server restarts, the store serves no stale value once it has noticed the
// loss, and notices it about as fast as it would receive an invalidation.
//
// Each iteration reads a key (caching its value), kills the store's
// connections, writes a new value from another connection, and reads again
// through the store: the read returns the new value or an error, never the
// old value, unless it raced the store's noticing of the loss (nothing had
// emptied the cache since the kill). No client-side cache can close that
// race without a system call per cache hit: the loss is a FIN waiting in
// the kernel until the connection's reader goroutine is scheduled, which
// the runtime does on its own time. The test counts such reads and checks
// that each is followed, within a second, by the new value; it asserts
// that a read made once the cache was emptied is never stale.
func TestLostConnection(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := openStore(t, srv.Addr(), nil)
	ctx := testContext(t)
	const key = "lost"

	run := func(t *testing.T, iterations int, lose func()) {
		before := s.Stats()
		var (
			staleAfter, raced, errs, fresh int
			settle                         []time.Duration
		)
		for i := range iterations {
			old, next := fmt.Sprintf("old-%d", i), fmt.Sprintf("new-%d", i)
			srv.MustDo("SET", key, old)
			// Read until the value comes from the cache (the teardown of
			// the previous iteration's connection may empty it late).
			backendtest.Eventually(t, "reading the old value from the cache", func() error {
				hits := s.Stats().Hits
				v, err := s.Get(ctx, key)
				switch {
				case err != nil:
				case string(v) != old:
					err = fmt.Errorf("got %q, want %q", v, old)
				case s.Stats().Hits == hits:
					err = errors.New("not a cache hit yet")
				}
				return err
			})
			lose()
			flushes := s.Stats().Flushes
			srv.MustDo("SET", key, next)
			written := time.Now()
			noticed := s.Stats().Flushes != flushes
			v, err := s.Get(ctx, key)
			switch {
			case err != nil:
				errs++
			case string(v) == next:
				fresh++
			case string(v) != old:
				t.Fatalf("Get = %q, want %q", v, next)
			case noticed:
				staleAfter++
			default:
				raced++
				for {
					v, err := s.Get(ctx, key)
					if err != nil || string(v) != old {
						break
					}
					if time.Since(written) > time.Second {
						t.Fatalf("iteration %d: the store still serves the old value a second after the write", i)
					}
					time.Sleep(100 * time.Microsecond)
				}
				settle = append(settle, time.Since(written))
			}
		}
		st := s.Stats()
		slices.Sort(settle)
		lag := "none"
		if len(settle) > 0 {
			lag = fmt.Sprintf("p50 %v, max %v", settle[len(settle)/2], settle[len(settle)-1])
		}
		t.Logf("%d iterations: %d stale reads after the cache was emptied, %d fresh, %d errors, "+
			"%d stale reads that raced the store's noticing the loss (new value seen after: %s); cache: %d flushes, %d hits, %d misses, %d invalidations",
			iterations, staleAfter, fresh, errs, raced, lag, st.Flushes-before.Flushes, st.Hits-before.Hits, st.Misses-before.Misses, st.Invalidations-before.Invalidations)
		if staleAfter != 0 {
			t.Errorf("%d stale reads once the cache was emptied after a lost connection, want 0", staleAfter)
		}
	}

	t.Run("ClientKill", func(t *testing.T) {
		run(t, 1000, func() { srv.MustDo("CLIENT", "KILL", "TYPE", "normal") })
	})
	t.Run("Restart", func(t *testing.T) {
		run(t, 25, srv.Restart)
	})
}

// TestSingleFlight: concurrent reads of a key that is not cached cost one
// GET on the server, and concurrent bulk reads fetch each key once.
func TestSingleFlight(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := openStore(t, srv.Addr(), nil)
	ctx := testContext(t)
	const readers = 64

	gets := func(cmd string) int64 {
		info := srv.MustDo("INFO", "commandstats").(string)
		_, rest, ok := strings.Cut(info, "cmdstat_"+cmd+":calls=")
		if !ok {
			return 0
		}
		n, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
		return n
	}
	together := func(f func() error) {
		t.Helper()
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make(chan error, readers)
		)
		for range readers {
			wg.Go(func() {
				<-start
				errs <- f()
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	for round := range 3 {
		key := "sf:" + strconv.Itoa(round)
		srv.MustDo("SET", key, "value")
		before, beforeGets := s.Stats(), gets("get")
		together(func() error {
			v, err := s.Get(ctx, key)
			if err == nil && string(v) != "value" {
				err = fmt.Errorf("Get = %q", v)
			}
			return err
		})
		st := s.Stats()
		t.Logf("%d concurrent Gets of a cold key: %d server GETs, %d misses, %d hits",
			readers, gets("get")-beforeGets, st.Misses-before.Misses, st.Hits-before.Hits)
		if n := gets("get") - beforeGets; n != 1 || st.Misses-before.Misses != 1 {
			t.Errorf("%d concurrent Gets of a cold key: %d GETs on the server, %d misses; want 1 and 1", readers, n, st.Misses-before.Misses)
		}
	}

	keys := make([]string, 20)
	for i := range keys {
		keys[i] = "sfm:" + strconv.Itoa(i)
		srv.MustDo("SET", keys[i], keys[i])
	}
	before := s.Stats()
	together(func() error {
		vals, err := s.GetMulti(ctx, keys)
		for i := range vals {
			if err == nil && (!vals[i].Found || string(vals[i].Data) != keys[i]) {
				err = fmt.Errorf("GetMulti[%d] = %+v", i, vals[i])
			}
		}
		return err
	})
	st := s.Stats()
	t.Logf("%d concurrent GetMultis of %d cold keys: %d misses, %d hits", readers, len(keys), st.Misses-before.Misses, st.Hits-before.Hits)
	if got := st.Misses - before.Misses; got != uint64(len(keys)) {
		t.Errorf("%d concurrent GetMultis of %d cold keys fetched %d keys, want each once", readers, len(keys), got)
	}
}

// TestDeadlineStorm (R5): a storm of calls with 1 ms deadlines, cached and
// not, returns only the keys' values or deadline errors.
func TestDeadlineStorm(t *testing.T) {
	srv := realRedis(t)
	ctx := testContext(t)
	prefix := fmt.Sprintf("storm:%d:", time.Now().UnixNano())
	keys := make([]string, 200)
	setup := openStore(t, srv.Addr(), &rueidiskv.Options{DisableCache: true})
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
		if err := setup.Set(ctx, keys[i], []byte("value of "+keys[i])); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, k := range keys {
			_, _ = setup.Delete(context.Background(), k)
		}
	})

	for _, tc := range []struct {
		name string
		opts *rueidiskv.Options
	}{
		// A 2 ms cache TTL mixes hits, misses and shared fetches.
		{"Cached", &rueidiskv.Options{CacheTTL: 2 * time.Millisecond}},
		{"Uncached", &rueidiskv.Options{DisableCache: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStoreWith(t, rueidis.ClientOption{InitAddress: []string{srv.Addr()}}, tc.opts)
			// Open every connection first: rueidis dials lazily, with the
			// context of the call that needs the connection.
			for _, k := range keys {
				if _, err := s.Get(ctx, k); err != nil {
					t.Fatal(err)
				}
			}
			const workers, calls = 8, 10000
			var ok, deadline, wrong, other atomic.Int64
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(w), 7))
					for range calls / workers {
						cctx, cancel := context.WithTimeout(ctx, time.Millisecond)
						i := r.IntN(len(keys))
						var good bool
						var err error
						if r.IntN(4) == 0 {
							var vals []kv.Value
							j := r.IntN(len(keys))
							vals, err = s.GetMulti(cctx, []string{keys[i], keys[j]})
							good = err == nil && string(vals[0].Data) == "value of "+keys[i] && string(vals[1].Data) == "value of "+keys[j]
						} else {
							var v []byte
							v, err = s.Get(cctx, keys[i])
							good = err == nil && string(v) == "value of "+keys[i]
						}
						cancel()
						switch {
						case good:
							ok.Add(1)
						case err == nil:
							wrong.Add(1)
						case errors.Is(err, context.DeadlineExceeded):
							deadline.Add(1)
						default:
							if other.Add(1) <= 5 {
								t.Errorf("unexpected error: %v", err)
							}
						}
					}
				})
			}
			wg.Wait()
			t.Logf("%d calls with 1 ms deadlines from %d goroutines: %d correct values, %d deadline errors, %d wrong values, %d other errors; cache: %+v",
				calls, workers, ok.Load(), deadline.Load(), wrong.Load(), other.Load(), s.Stats())
			if wrong.Load() != 0 || other.Load() != 0 {
				t.Errorf("%d wrong values and %d other errors, want 0", wrong.Load(), other.Load())
			}
		})
	}
}

// TestReadAfterOutsideEvent: another client writes a key the store has
// cached; once the store's watch delivers the change, a read through the
// store returns it, though the server's invalidation for the cache may
// still be on its way. Each write waits for its event and its re-read, as
// a consumer that re-reads on every event does.
func TestReadAfterOutsideEvent(t *testing.T) {
	_, s, other, key := outsideWriter(t, "event-read")
	ctx := testContext(t)
	if err := s.Set(ctx, key, []byte("0")); err != nil {
		t.Fatal(err)
	}
	events, err := s.Watch(ctx, kv.EscapePattern(key))
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.Op != kv.OpResync {
		t.Fatalf("first event %v, want OpResync", ev)
	}
	const writes = 300
	stale := 0
	for i := 1; i <= writes; i++ {
		if _, err := s.Get(ctx, key); err != nil { // cache the current value
			t.Fatal(err)
		}
		want := strconv.Itoa(i)
		if err := other.Do(ctx, other.B().Set().Key(key).Value(want).Build()).Error(); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-events:
			if ev.Op != kv.OpSet || ev.Key != key {
				t.Fatalf("write %d: event %v, want OpSet of %q", i, ev, key)
			}
		case <-ctx.Done():
			t.Fatalf("write %d: no event: %v", i, ctx.Err())
		}
		v, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if string(v) != want {
			stale++
			t.Errorf("write %d: Get after the OpSet = %q, want %q", i, v, want)
		}
	}
	t.Logf("%d outside writes, %d stale reads after their events", writes, stale)
}

// outsideWriter returns a real Redis server, a cached store over it, a
// second client of it without a cache that writes from outside the store,
// and a key of its own that starts with prefix, deleted when the test ends.
func outsideWriter(t *testing.T, prefix string) (*redistest.Server, *rueidiskv.Store, rueidis.Client, string) {
	t.Helper()
	srv := realRedis(t)
	s := openStore(t, srv.Addr(), nil)
	other := newClient(t, rueidis.ClientOption{InitAddress: []string{srv.Addr()}, DisableCache: true})
	key := fmt.Sprintf("%s:%d", prefix, time.Now().UnixNano())
	t.Cleanup(func() { _, _ = s.Delete(context.Background(), key) })
	return srv, s, other, key
}
