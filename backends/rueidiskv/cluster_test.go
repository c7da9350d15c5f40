package rueidiskv_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// TestCluster runs on a three-master Redis Cluster: the conformance suite
// with the cache on (bulk reads span slots, Scan and Watch span masters),
// plus checks of how the store spreads its work and that every master's
// invalidations reach the cache.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	cl := redistest.StartCluster(t, 3)
	opt := rueidis.ClientOption{InitAddress: cl.Addrs()}
	newStore := func(t *testing.T, opts *rueidiskv.Options) *rueidiskv.Store {
		return openStoreWith(t, opt, opts)
	}

	t.Run("Conformance", func(t *testing.T) {
		conformance.Run(t, func(t *testing.T) kv.Store { return newStore(t, nil) })
	})

	// calls returns how often the masters ran cmd.
	calls := func(cmd string) int64 {
		var n int64
		for _, srv := range cl.Servers {
			info := srv.MustDo("INFO", "commandstats").(string)
			if _, rest, ok := strings.Cut(info, "cmdstat_"+cmd+":calls="); ok {
				c, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
				n += c
			}
		}
		return n
	}

	t.Run("GetMultiOneMGETPerSlot", func(t *testing.T) {
		for _, cached := range []bool{true, false} {
			s := newStore(t, &rueidiskv.Options{DisableCache: !cached})
			ctx := testContext(t)
			p := fmt.Sprintf("%v", cached)
			keys := []string{"{a" + p + "}1", "{b" + p + "}1", "{a" + p + "}2", "{c" + p + "}1", "{b" + p + "}2", "{a" + p + "}1", "{missing" + p + "}"}
			for _, k := range keys[:6] {
				if err := s.Set(ctx, k, []byte(k)); err != nil {
					t.Fatal(err)
				}
			}
			before := calls("mget")
			for round := range 2 { // the second round is served by the cache
				vals, err := s.GetMulti(ctx, keys)
				if err != nil {
					t.Fatal(err)
				}
				for i, k := range keys {
					want := kv.Value{Data: []byte(k), Found: !strings.HasPrefix(k, "{missing")}
					if vals[i].Found != want.Found || (want.Found && string(vals[i].Data) != k) {
						t.Errorf("cached=%v round %d: GetMulti[%d] (%q) = %+v, want %q", cached, round, i, k, vals[i], k)
					}
				}
			}
			want := int64(8) // 4 slots, twice
			if cached {
				want = 4
			}
			if got := calls("mget") - before; got != want {
				t.Errorf("cached=%v: two GetMultis of 4 slots sent %d MGETs, want %d", cached, got, want)
			}
		}
	})

	t.Run("WatchEveryMaster", func(t *testing.T) {
		s := newStore(t, nil)
		ctx := testContext(t)
		ch := backendtest.StartWatch(ctx, t, s, "wm:*")
		for _, k := range backendtest.KeyPerMaster(len(cl.Servers), "wm:") {
			backendtest.SetAndSee(ctx, t, s, ch, k)
		}
	})

	t.Run("ScanEveryMaster", func(t *testing.T) {
		s := newStore(t, &rueidiskv.Options{Options: redisconf.Options{ScanCount: 1}})
		ctx := testContext(t)
		keys := backendtest.KeyPerMaster(len(cl.Servers), "sm:")
		for _, k := range keys {
			if err := s.Set(ctx, k, nil); err != nil {
				t.Fatal(err)
			}
		}
		got, err := kv.Keys(ctx, s, "sm:*")
		if err != nil || strings.Join(got, ",") != strings.Join(slices.Sorted(slices.Values(keys)), ",") {
			t.Errorf("Keys(sm:*) = %q, %v; want %q", got, err, keys)
		}
	})

	t.Run("InvalidationsFromEveryMaster", func(t *testing.T) {
		s := newStore(t, nil)
		ctx := testContext(t)
		keys := backendtest.KeyPerMaster(len(cl.Servers), "inv:")
		for i, k := range keys {
			if err := s.Set(ctx, k, []byte("old")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, k); err != nil {
				t.Fatal(err)
			}
			cl.Servers[i].MustDo("SET", k, "new")
			backendtest.Eventually(t, "the new value of "+k, func() error {
				v, err := s.Get(ctx, k)
				if err == nil && string(v) != "new" {
					err = fmt.Errorf("Get(%q) = %q", k, v)
				}
				return err
			})
		}
		deadline := time.Now().Add(15 * time.Second)
		for s.Stats().Invalidations < uint64(len(keys)) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if st := s.Stats(); st.Invalidations < uint64(len(keys)) {
			t.Errorf("stats = %+v, want an invalidation from each master", st)
		}
	})
}

// TestFailover fails over a cluster master and a Sentinel master, by a kill
// and gracefully, under load, with the cache on: calls keep their
// deadlines, the store serves every key again, and the watch follows the
// new master.
func TestFailover(t *testing.T) {
	backendtest.RunFailover(t, backendtest.FailoverBackend{
		NewCluster: func(t *testing.T, addrs []string) kv.Store {
			return openStoreWith(t, rueidis.ClientOption{InitAddress: addrs},
				&rueidiskv.Options{Options: redisconf.Options{TopologyInterval: backendtest.FailoverInterval}})
		},
		NewSentinel: func(t *testing.T, master string, addrs []string) kv.Store {
			return openStoreWith(t, rueidis.ClientOption{InitAddress: addrs, Sentinel: rueidis.SentinelOption{MasterSet: master}},
				&rueidiskv.Options{Options: redisconf.Options{TopologyInterval: backendtest.FailoverInterval}})
		},
	})
}
