package configstore_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
)

// fetchNeverStale fetches every key of keys, from a few goroutines at once,
// and fails t for each Fetch that does not return version 2 with index 2:
// every key changed to that while events were lost, and the Store has
// handled the resync that followed. It returns how many keys were fetched
// while the cache still held their old version (read through, not served).
func fetchNeverStale(t *testing.T, c *configstore.Store[Conf], keys []string) int64 {
	t.Helper()
	ctx := backendtest.Context(t)
	var (
		wg      sync.WaitGroup
		next    atomic.Int64
		through atomic.Int64
		mu      sync.Mutex
		bad     []string
	)
	for range 4 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(keys) {
					return
				}
				k := keys[i]
				if v, _ := c.CachedVersion(k); v == 1 {
					through.Add(1)
				}
				v, version, err := c.Fetch(ctx, k)
				if err != nil || version != 2 || v.Index != 2 {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("Fetch(%s) = index %d, version %d, %v", k, v.Index, version, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d of %d Fetches after the resync did not return the value written while events were lost, "+
			"version 2; the first: %s", len(bad), len(keys), bad[0])
	}
	return through.Load()
}

// waitEpoch waits until c has handled a resync after the epoch before.
func waitEpoch(t *testing.T, c *configstore.Store[Conf], before uint64) {
	t.Helper()
	backendtest.Eventually(t, "the Store handles the resync", func() error {
		if configstore.Epoch(c) <= before {
			return errors.New("not yet")
		}
		return nil
	})
}

// After a resync, a key changed while events were lost is never served
// from the cache as fresh: until its re-read, which here waits behind a
// slow backlog, Fetch reads it through.
func TestResyncNeverServesStale(t *testing.T) {
	ctx := backendtest.Context(t)
	s := newLossyStore(t)
	c := open(t, s, &configstore.Options[Conf]{Readers: 1})
	const n = 2000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
		if _, err := s.Append(ctx, keys[i], []byte(encoded(1))); err != nil {
			t.Fatal(err)
		}
		wantFetch(t, c, keys[i], 1, 1)
	}
	s.quiesce(t, c)
	waitEpoch(t, c, 0) // the watch's first resync
	s.drop(true)
	for _, k := range keys {
		if _, err := s.Append(ctx, k, []byte(encoded(2))); err != nil {
			t.Fatal(err)
		}
	}
	s.drop(false)
	// One reader, 20 ms a batch: the backlog takes more than 100 ms.
	s.batchDelay.Store(int64(20 * time.Millisecond))
	before := configstore.Epoch(c)
	s.resync(nil)
	waitEpoch(t, c, before)
	through := fetchNeverStale(t, c, keys)
	t.Logf("%d of %d keys fetched before their re-read", through, n)
	if through == 0 {
		t.Fatalf("every key was re-read before it was fetched: the test checked nothing")
	}
}

// TestRedisResyncNeverServesStale: the same on Redis, through both
// backends: the store's subscription is killed and every key changed in
// the same pipeline, so that the changes' events are certainly lost.
func TestRedisResyncNeverServesStale(t *testing.T) {
	redisRun(t, testRedisResyncNeverServesStale)
}

func testRedisResyncNeverServesStale(t *testing.T, kind redisKind) {
	const (
		prefix = "rs:"
		n      = 5000
	)
	srv := redistest.Start(t, nil)
	c := open(t, kind.open(t, srv, redisOptions{}), &configstore.Options[Conf]{Prefix: prefix})
	const push = `for i = 0, tonumber(ARGV[1]) - 1 do redis.call('RPUSH', KEYS[1] .. i, ARGV[2]) end return 1`
	redisInt(t, srv, "EVAL", push, "1", prefix+"k", strconv.Itoa(n), encoded(1))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
		wantFetch(t, c, keys[i], 1, 1)
	}
	redisWaitSubscribed(t, srv)
	waitEpoch(t, c, 0) // the watch's first resync
	before := configstore.Epoch(c)
	replies := redisPipeline(t, srv, []string{"CLIENT", "KILL", "TYPE", "pubsub"},
		[]string{"EVAL", push, "1", prefix + "k", strconv.Itoa(n), encoded(2)})
	if killed, _ := replies[0].(int64); killed < 1 {
		t.Fatalf("CLIENT KILL TYPE pubsub killed %d connections, want at least 1", killed)
	}
	waitEpoch(t, c, before)
	through := fetchNeverStale(t, c, keys)
	t.Logf("%s: %d of %d keys fetched before their re-read", kind.name, through, n)
}
