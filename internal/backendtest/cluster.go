package backendtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// KeyPerMaster returns one key of the form prefix+number for each master
// of a cluster whose masters serve equal shares of the slots in order, as
// redistest.StartCluster splits them: the i-th key lives on master i.
func KeyPerMaster(masters int, prefix string) []string {
	keys := make([]string, masters)
	for n := 0; slices.Contains(keys, ""); n++ {
		k := fmt.Sprintf("%s%d", prefix, n)
		if m := rediskv.Slot(k) * masters / rediskv.SlotCount; keys[m] == "" {
			keys[m] = k
		}
	}
	return keys
}

// A ClusterVariant is a way a backend makes stores over a client of a
// cluster, named for the subtests that use it.
type ClusterVariant struct {
	Name string
	// Cached says that a store serves a read it has made before from a
	// client-side cache.
	Cached bool
	// New returns a store with the options o over a new client of the
	// cluster whose masters are at addrs; the test closes it.
	New func(t *testing.T, addrs []string, o Options) kv.Store
}

// RunCluster starts a Redis Cluster of three masters (unless the tests are
// short: then it skips t), runs on it the conformance suite (bulk reads span
// slots, Scan and Watch span masters) and checks of how a store spreads its
// work, and returns it for the backend's own checks. The checks: for each
// variant, that two GetMultis of keys in four slots read every key and send
// one MGET per slot each, or one per slot in all through a cache, and that
// bulk calls of keys over many slots bring no MOVED or ASK reply; and with
// the first variant, that a watch reports changes on every master and that
// a Scan with a COUNT of 1 lists the keys of every master. The first
// variant also serves the conformance suite.
func RunCluster(t *testing.T, variants ...ClusterVariant) *redistest.Cluster {
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	cl := redistest.StartCluster(t, 3)
	first := variants[0]
	newStore := func(t *testing.T, v ClusterVariant, o Options) kv.Store { return v.New(t, cl.Addrs(), o) }
	t.Run("Conformance", func(t *testing.T) {
		conformance.Run(t, func(t *testing.T) kv.Store { return newStore(t, first, Options{}) })
	})

	t.Run("GetMultiOneMGETPerSlot", func(t *testing.T) {
		for _, v := range variants {
			t.Run(v.Name, func(t *testing.T) { checkMGETPerSlot(t, cl, v) })
		}
	})

	t.Run("BulkCallsWithoutRedirects", func(t *testing.T) {
		for _, v := range variants {
			t.Run(v.Name, func(t *testing.T) { checkNoRedirects(t, cl, v) })
		}
	})

	t.Run("WatchEveryMaster", func(t *testing.T) {
		s := newStore(t, first, Options{})
		ctx := Context(t)
		ch := StartWatch(ctx, t, s, "wm:*")
		for _, k := range KeyPerMaster(len(cl.Servers), "wm:") {
			SetAndSee(ctx, t, s, ch, k)
		}
	})

	t.Run("ScanEveryMaster", func(t *testing.T) {
		s := newStore(t, first, Options{ScanCount: 1})
		ctx := Context(t)
		keys := KeyPerMaster(len(cl.Servers), "sm:")
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
	return cl
}

// checkMGETPerSlot sets keys of three slots through a store of v, and reads
// them, with a key of a fourth slot that is missing, twice with GetMulti:
// each read returns every value, and the masters of cl run one MGET (or,
// for a slot of one key, one GET) per slot for each read, or for the first
// only when v caches.
func checkMGETPerSlot(t *testing.T, cl *redistest.Cluster, v ClusterVariant) {
	s := v.New(t, cl.Addrs(), Options{})
	m := as[kv.MultiGetter](t, s)
	ctx := Context(t)
	tag := func(name string) string { return "{" + name + v.Name + "}" }
	keys := []string{tag("a") + "1", tag("b") + "1", tag("a") + "2", tag("c") + "1", tag("b") + "2", tag("a") + "1", tag("missing")}
	slots := make(map[int]bool)
	for _, k := range keys {
		slots[rediskv.Slot(k)] = true
	}
	if len(slots) != 4 {
		t.Fatalf("the keys %q span %d slots, want 4", keys, len(slots))
	}
	for _, k := range keys[:6] {
		if err := s.Set(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	// One read per slot: an MGET, or a GET for a slot of one key.
	reads := func() int64 { return commandCalls(cl.Servers, "mget") + commandCalls(cl.Servers, "get") }
	before := reads()
	for round := range 2 { // a cache serves the second round
		vals, err := m.GetMulti(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			found := k != tag("missing")
			if vals[i].Found != found || (found && string(vals[i].Data) != k) {
				t.Errorf("round %d: GetMulti[%d] (%q) = %+v, want %q", round, i, k, vals[i], k)
			}
		}
	}
	want := int64(2 * len(slots))
	if v.Cached {
		want = int64(len(slots))
	}
	if got := reads() - before; got != want {
		t.Errorf("two GetMultis of %d slots sent %d MGETs and GETs, want %d", len(slots), got, want)
	}
}

// checkNoRedirects makes bulk writes and reads through a store of v of
// keys spread over many slots, with slots of several keys among them
// (SetMulti with and without TTLs, GetMulti, LatestMulti, DeleteMulti),
// and checks that every command went to the master of its slot: that no
// master of cl answered MOVED or ASK meanwhile. A client follows a
// redirect by itself, so a command sent to the wrong master costs a round
// trip and shows only there.
func checkNoRedirects(t *testing.T, cl *redistest.Cluster, v ClusterVariant) {
	s := v.New(t, cl.Addrs(), Options{})
	w := as[kv.BulkWriter](t, s)
	m := as[kv.MultiGetter](t, s)
	ctx := Context(t)
	var keys []string
	for i := range 200 {
		keys = append(keys, fmt.Sprintf("nr:%s:%d", v.Name, i))
	}
	for i := range 6 { // two slots of three keys each
		keys = append(keys, fmt.Sprintf("{nr:%s:%d}:%d", v.Name, i%2, i))
	}
	items := func(ttl time.Duration) []kv.Item {
		its := make([]kv.Item, len(keys))
		for i, k := range keys {
			its[i] = kv.Item{Key: k, Value: []byte(k), TTL: ttl}
		}
		return its
	}
	before := redirects(cl.Servers)
	for _, ttl := range []time.Duration{0, time.Hour} {
		if err := w.SetMulti(ctx, items(ttl)); err != nil {
			t.Fatalf("SetMulti (TTL %v): %v", ttl, err)
		}
	}
	vals, err := m.GetMulti(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if !vals[i].Found || string(vals[i].Data) != k {
			t.Errorf("GetMulti[%d] (%q) = %+v, want %q", i, k, vals[i], k)
		}
	}
	latest, err := as[kv.MultiLatest](t, s).LatestMulti(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if l := latest[i]; !l.Found || l.Version != 1 || string(l.Value) != k {
			t.Errorf("LatestMulti[%d] (%q) = %+v, want version 1 of %q", i, k, l, k)
		}
	}
	if n, err := w.DeleteMulti(ctx, keys); err != nil || n != len(keys) {
		t.Errorf("DeleteMulti = %d, %v; want %d, nil", n, err, len(keys))
	}
	if got := redirects(cl.Servers) - before; got != 0 {
		t.Errorf("the bulk calls of %d keys brought %d MOVED or ASK replies, want none", len(keys), got)
	}
}

// redirects returns how many MOVED and ASK replies servers have sent.
func redirects(servers []*redistest.Server) int64 {
	return infoSum(servers, "errorstats", "errorstat_MOVED:count=", "errorstat_ASK:count=")
}

// commandCalls returns how often servers have run cmd.
func commandCalls(servers []*redistest.Server, cmd string) int64 {
	return infoSum(servers, "commandstats", "cmdstat_"+cmd+":calls=")
}

// infoSum returns the sum over servers of the numbers that follow fields
// (such as "cmdstat_get:calls=") in their INFO section; a field missing
// from a server's section counts 0.
func infoSum(servers []*redistest.Server, section string, fields ...string) int64 {
	var n int64
	for _, srv := range servers {
		info := srv.MustDo("INFO", section).(string)
		for _, field := range fields {
			if _, rest, ok := strings.Cut(info, field); ok {
				if end := strings.IndexAny(rest, ",\r\n"); end >= 0 {
					rest = rest[:end]
				}
				c, _ := strconv.ParseInt(rest, 10, 64)
				n += c
			}
		}
	}
	return n
}
