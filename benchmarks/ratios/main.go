// Command ratios prints storekit's performance targets (P1 to P3, P6, P8 to
// P10, P12 and P13 of the design, A1 to A6 of the conditional, counter and
// bulk writes and the lock, T1, C1 to C3 and M1 against the peers users
// compare storekit with: go-redis/cache, rueidis's bulk helpers, a go-redis
// cluster pipeline, the raw MGET; PG, the PostgreSQL store against pgx
// running the same statements; and N1, the raw rueidis client against its
// twin, a ratio of two equals) as measured by the benchmarks of package
// benchmarks:
//
//	cd benchmarks
//	go test -run '^$' -bench . -benchmem -cpu 2 -count 6 . > ../bench/latest.txt
//	go run ./ratios ../bench/latest.txt
//
// It reads benchmark output (files, or standard input), takes the median of
// each benchmark's measurements over the runs, and prints one row per
// target: the ratio (or allocation difference) of two medians, or one
// median (the P12 latencies), the target, and pass or miss (info for a row
// shown without a target, such as P3 at 1 goroutine). A target whose
// benchmarks are missing from the input is shown as "no data". The exit status is 0 unless the input cannot be read
// or holds no benchmark results; a missed target is reported, not an error.
package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	in, err := open(os.Args[1:])
	if err == nil {
		var res results
		if res, err = parse(in); err == nil {
			err = printTable(os.Stdout, res)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

// open returns the concatenation of the named files, or standard input when
// there are none.
func open(names []string) (io.Reader, error) {
	if len(names) == 0 {
		return os.Stdin, nil
	}
	var rs []io.Reader
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		rs = append(rs, strings.NewReader(string(b)), strings.NewReader("\n"))
	}
	return io.MultiReader(rs...), nil
}

// results holds, for each benchmark name (without "Benchmark" and the
// GOMAXPROCS suffix) and unit, the values of every run.
type results map[string]map[string][]float64

// procsSuffix is the "-N" that go test appends to a benchmark name when
// GOMAXPROCS is not 1.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark result lines, such as
//
//	BenchmarkStores/Get/par=8/impl=goredis-2  12010  23922 ns/op  296 B/op  7 allocs/op
//
// and ignores every other line.
func parse(r io.Reader) (results, error) {
	res := make(results)
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if res[name] == nil {
				res[name] = make(map[string][]float64)
			}
			res[name][f[i+1]] = append(res[name][f[i+1]], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("no benchmark results in the input")
	}
	return res, nil
}

// A quantity is the median of one benchmark's measurements in one unit.
// The unit "ops/s" is derived from ns/op.
type quantity struct {
	name, unit string
}

// get returns the median of q, and whether there is data for it.
func (res results) get(q quantity) (float64, bool) {
	unit := q.unit
	if unit == "ops/s" {
		unit = "ns/op"
	}
	m, ok := median(res[q.name][unit])
	if ok && q.unit == "ops/s" {
		m = 1e9 / m
	}
	return m, ok
}

func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Sorted(slices.Values(vs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// A target is one row of the table: a ÷ b (a − b when diff is set; a alone
// when b is the zero quantity) must lie within want. When orB is set, b is
// the larger of b and orB: the better of two anchors, in ops/s.
type target struct {
	id, what string
	a, b     quantity
	orB      quantity
	diff     bool
	want     bounds
}

// measure returns the target's measured value, and whether there is data.
func (t target) measure(res results) (float64, bool) {
	a, ok := res.get(t.a)
	if !ok || t.b == (quantity{}) {
		return a, ok
	}
	b, ok := res.get(t.b)
	if t.orB != (quantity{}) {
		b2, ok2 := res.get(t.orB)
		ok = ok && ok2
		b = max(b, b2)
	}
	switch {
	case !ok:
		return 0, false
	case t.diff:
		return a - b, true
	default:
		return a / b, true
	}
}

// bounds are an interval, closed where finite.
type bounds struct{ lo, hi float64 }

// none is the bounds of a row shown for information, with no target.
var none = bounds{math.Inf(-1), math.Inf(1)}

func atLeast(lo float64) bounds     { return bounds{lo, math.Inf(1)} }
func atMost(hi float64) bounds      { return bounds{math.Inf(-1), hi} }
func between(lo, hi float64) bounds { return bounds{lo, hi} }

func (b bounds) contain(v float64) bool { return b.lo <= v && v <= b.hi }

// String describes b, as in "≥ 0.90" or "0.85–1.15".
func (b bounds) String() string {
	switch {
	case b == none:
		return "none"
	case math.IsInf(b.hi, 1):
		return "≥ " + num(b.lo)
	case math.IsInf(b.lo, -1):
		return "≤ " + num(b.hi)
	default:
		return num(b.lo) + "–" + num(b.hi)
	}
}

func num(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// The quantities of package benchmarks' sub-benchmarks.
func ops(op string, par int, impl string) quantity  { return quantity{bench(op, par, impl), "ops/s"} }
func nsop(op string, par int, impl string) quantity { return quantity{bench(op, par, impl), "ns/op"} }
func bench(op string, par int, impl string) string {
	return fmt.Sprintf("Stores/%s/par=%d/impl=%s", op, par, impl)
}

var pars = []int{1, 8, 64}

// targets lists the rows of the table, in order.
func targets() []target {
	ts := slices.Concat(overhead("P1", "goredis", "goredis-raw"), overhead("P2", "rueidiskv-nocache", "rueidis-raw"))
	ts = append(ts,
		// At 1 goroutine rueidis itself trails go-redis and the stores add
		// nothing (P1, P2): no target, the stores' ratio beside the raw
		// clients'.
		target{id: "P3", what: "Get par=1: rueidiskv-nocache ÷ goredis ops/s",
			a: ops("Get", 1, "rueidiskv-nocache"), b: ops("Get", 1, "goredis"), want: none},
		target{id: "P3", what: "Get par=1: rueidis-raw ÷ goredis-raw ops/s",
			a: ops("Get", 1, "rueidis-raw"), b: ops("Get", 1, "goredis-raw"), want: none},
		target{id: "P3", what: "Get par=64: rueidiskv-nocache ÷ goredis ops/s",
			a: ops("Get", 64, "rueidiskv-nocache"), b: ops("Get", 64, "goredis"), want: atLeast(1.6)})
	// N1: the raw rueidis client against its twin, the same client with
	// keys of its own: what a ratio of two equals reads in this run.
	for _, op := range []string{"Get", "GetMulti100"} {
		for _, par := range pars {
			ts = append(ts, target{id: "N1", what: fmt.Sprintf("%s par=%d: rueidis-raw ÷ rueidis-twin ops/s", op, par),
				a: ops(op, par, "rueidis-raw"), b: ops(op, par, "rueidis-twin"), want: between(0.9, 1.1)})
		}
	}
	for _, impl := range []string{"goredis", "rueidiskv-nocache"} {
		ts = append(ts, target{id: "P6", what: fmt.Sprintf("par=8: %s GetMulti100 keys/s ÷ Get ops/s", impl),
			a: quantity{bench("GetMulti100", 8, impl), "keys/s"}, b: ops("Get", 8, impl), want: atLeast(10)})
	}
	ts = append(ts, target{id: "P8", what: "Get par=8: rueidiskv (cache hit) ÷ rueidiskv-nocache ops/s",
		a: ops("Get", 8, "rueidiskv"), b: ops("Get", 8, "rueidiskv-nocache"), want: atLeast(10)})
	for _, par := range pars {
		ts = append(ts, target{id: "P9", what: fmt.Sprintf("Get par=%d: rueidiskv-miss ÷ rueidiskv-nocache time/op", par),
			a: nsop("Get", par, "rueidiskv-miss"), b: nsop("Get", par, "rueidiskv-nocache"), want: atMost(2)})
	}
	ts = append(ts,
		target{id: "P10", what: "Get par=2: memory ÷ syncmap time/op",
			a: nsop("Get", 2, "memory"), b: nsop("Get", 2, "syncmap"), want: atMost(3)},
		target{id: "P10", what: "Get par=8: memory ÷ rueidiskv (cache hit) ops/s",
			a: ops("Get", 8, "memory"), b: ops("Get", 8, "rueidiskv"), want: atLeast(0.5)},
	)
	ts = append(ts, propagation()...)
	ts = append(ts,
		target{id: "P13", what: "CacheMemory: Go heap growth ÷ configured cache (16 MiB, filled 3×)",
			a: quantity{"Stores/CacheMemory/impl=rueidiskv", "ratio-to-cache-size"}, want: atMost(1.2)})
	ts = append(ts, writes()...)
	ts = append(ts, anchors()...)
	return append(ts, postgresOverRaw()...)
}

// The implementations of BenchmarkCluster: the stores, and the anchors a
// user of the raw clients would write (rueidis's helpers MGet, MSet and
// MDel, and a go-redis cluster pipeline of one command per key).
var (
	clusterStores  = []string{"goredis", "rueidiskv-nocache", "rueidiskv"}
	clusterAnchors = [2]string{"rueidis-helper", "goredis-pipe"}
)

// goredisRefs are the implementations of BenchmarkCluster that goredis is
// shown against for information, and what each ratio says.
var goredisRefs = []struct{ impl, what string }{
	{"goredis-pipe", "its own client"},
	{"goredis-separate", "shared pipelines ÷ one a call"},
	{"goredis-autopipe", "shared pipelines ÷ go-redis's autopipeliner"},
}

// anchors returns the targets against the peers users compare storekit
// with: T1, a typed cached read of a small struct at least as fast as
// go-redis/cache's local Get; C1 to C3, the bulk reads, writes and deletes
// of 100 keys over about 100 slots on a 3-master cluster, every store at
// least as fast as the better of the two anchors, and the cached read at
// least twice as fast; M1, the bulk read of 100 keys on one server at
// least 0.95 of the raw client's MGET.
func anchors() []target {
	var ts []target
	for _, par := range pars {
		ts = append(ts, target{id: "T1", what: fmt.Sprintf("Typed par=%d: codec-rueidiskv ÷ goredis-cache (local Get) ops/s", par),
			a: typed(par, "codec-rueidiskv"), b: typed(par, "goredis-cache"), want: atLeast(1)})
	}
	for i, op := range []string{"GetMulti100", "SetMulti100", "DeleteMulti100"} {
		for _, impl := range clusterStores {
			want := atLeast(1)
			if op == "GetMulti100" && impl == "rueidiskv" {
				want = atLeast(2)
			}
			for _, par := range pars {
				ts = append(ts, target{id: fmt.Sprintf("C%d", i+1),
					what: fmt.Sprintf("Cluster %s par=%d: %s ÷ the better of %s and %s ops/s", op, par, impl, clusterAnchors[0], clusterAnchors[1]),
					a:    cluster(op, par, impl), b: cluster(op, par, clusterAnchors[0]), orB: cluster(op, par, clusterAnchors[1]),
					want: want})
			}
		}
		// goredis sends its bulk calls through go-redis's cluster
		// pipeline, shared by concurrent calls: for information, its cost
		// over that client, what sharing brings over a pipeline a call,
		// and how it compares with go-redis's own batching of concurrent
		// callers.
		for _, ref := range goredisRefs {
			for _, par := range pars {
				ts = append(ts, target{id: fmt.Sprintf("C%d", i+1),
					what: fmt.Sprintf("Cluster %s par=%d: goredis ÷ %s ops/s (%s, for reference)", op, par, ref.impl, ref.what),
					a:    cluster(op, par, "goredis"), b: cluster(op, par, ref.impl), want: none})
			}
		}
	}
	for _, st := range redisStores[:2] {
		for _, par := range pars {
			ts = append(ts, target{id: "M1", what: fmt.Sprintf("GetMulti100 par=%d: %s ÷ %s (MGET) ops/s", par, st.store, st.raw),
				a: ops("GetMulti100", par, st.store), b: ops("GetMulti100", par, st.raw), want: atLeast(0.95)})
		}
	}
	return ts
}

// The quantities of BenchmarkTyped and BenchmarkCluster.
func typed(par int, impl string) quantity {
	return quantity{fmt.Sprintf("Typed/par=%d/impl=%s", par, impl), "ops/s"}
}

func cluster(op string, par int, impl string) quantity {
	return quantity{fmt.Sprintf("Cluster/%s/par=%d/impl=%s", op, par, impl), "ops/s"}
}

// A redisStore is a Redis store, the raw client that anchors it, and that
// client's contender that writes with a pipeline.
type redisStore struct{ store, raw, pipe string }

var redisStores = []redisStore{
	{"goredis", "goredis-raw", "goredis-pipe"},
	{"rueidiskv-nocache", "rueidis-raw", "rueidis-pipe"},
	{"rueidiskv", "rueidis-raw", "rueidis-pipe"},
}

// writes returns the targets of the conditional, counter and bulk writes
// and of the lock: A1 to A3, A5 and A6 at least 0.90 of the raw client
// doing the same (CompareAndSwap against EVALSHA of the same script,
// SetMulti of 100 keys against the better of MSET and a pipeline of 100
// SETs, Incr against INCRBY, a lock's acquire and release against SET NX PX,
// INCR of the fencing counter and a compare-and-delete script), and A4 SetMulti of 100 keys at least 10
// times the keys/s of single Sets.
func writes() []target {
	stores := func(op string) func(par int, impl string) quantity {
		return func(par int, impl string) quantity { return ops(op, par, impl) }
	}
	lock := func(par int, impl string) quantity {
		return quantity{fmt.Sprintf("Lock/par=%d/impl=%s", par, impl), "ops/s"}
	}
	ts := slices.Concat(
		overRaw("A1", "CompareAndSwap", redisStores[:1], stores("CompareAndSwap"), false),
		overRaw("A2", "CompareAndSwap", redisStores[1:], stores("CompareAndSwap"), false),
		overRaw("A3", "SetMulti100", redisStores, stores("SetMulti100"), true))
	for _, st := range redisStores[:2] {
		for _, par := range pars {
			ts = append(ts, target{id: "A4", what: fmt.Sprintf("par=%d: %s SetMulti100 keys/s ÷ Set ops/s", par, st.store),
				a: quantity{bench("SetMulti100", par, st.store), "keys/s"}, b: ops("Set", par, st.store), want: atLeast(10)})
		}
	}
	// The same ratio for the raw clients, MSET of 100 keys against single
	// SETs: the bulk write's gain on this machine, where the client shares
	// its cores with redis-server and many goroutines' single writes are
	// pipelined by the client itself.
	for _, st := range redisStores[:2] {
		for _, par := range pars {
			ts = append(ts, target{id: "A4", what: fmt.Sprintf("par=%d: %s MSET of 100 keys/s ÷ SET ops/s (raw, for reference)", par, st.raw),
				a: quantity{bench("SetMulti100", par, st.raw), "keys/s"}, b: ops("Set", par, st.raw), want: atLeast(10)})
		}
	}
	return slices.Concat(ts,
		overRaw("A5", "Incr", redisStores, stores("Incr"), false),
		overRaw("A6", "Lock", redisStores, lock, false))
}

// overRaw returns the targets of op, whose ops/s at par goroutines for an
// implementation q gives: for each of stores at 1, 8 and 64 goroutines, at
// least 0.90 of its raw client's ops/s, or, with orPipe, of the better of
// its raw client's and its pipelined contender's.
func overRaw(id, op string, stores []redisStore, q func(par int, impl string) quantity, orPipe bool) []target {
	var ts []target
	for _, st := range stores {
		for _, par := range pars {
			t := target{id: id, what: fmt.Sprintf("%s par=%d: %s ÷ %s ops/s", op, par, st.store, st.raw),
				a: q(par, st.store), b: q(par, st.raw), want: atLeast(0.90)}
			if orPipe {
				t.what = fmt.Sprintf("%s par=%d: %s ÷ the better of %s and %s ops/s", op, par, st.store, st.raw, st.pipe)
				t.orB = q(par, st.pipe)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// p12Bound is target P12's bound on the time a config change written by
// another client takes to reach a watcher, in milliseconds.
const p12Bound = 50

// propagation returns the P12 targets: the median over the runs of the p50
// and of the p99 of BenchmarkConfigPropagation on each Redis backend and on
// postgres, each within p12Bound (the target speaks of the p99; the p50 is
// shown against the same bound). The throughput half of P12 is a test,
// TestConfigThroughput, not a benchmark.
func propagation() []target {
	var ts []target
	for _, impl := range []string{"goredis", "rueidiskv", "postgres"} {
		for _, p := range []string{"p50", "p99"} {
			ts = append(ts, target{id: "P12",
				what: fmt.Sprintf("ConfigPropagation %s: %s ms, another client's write → watcher callback", impl, p),
				a:    quantity{"ConfigPropagation/impl=" + impl, p + "-ms"}, want: atMost(p12Bound)})
		}
	}
	return ts
}

// postgresOverRaw returns the targets of BenchmarkPostgres: the postgres
// store at least 0.90 of the throughput of pgx running the same statements
// by hand (pgx-raw), for Get, Set and GetMulti100 at 1, 8 and 64
// goroutines.
func postgresOverRaw() []target {
	var ts []target
	for _, op := range []string{"Get", "Set", "GetMulti100"} {
		for _, par := range pars {
			q := func(impl string) quantity {
				return quantity{fmt.Sprintf("Postgres/%s/par=%d/impl=%s", op, par, impl), "ops/s"}
			}
			ts = append(ts, target{id: "PG", what: fmt.Sprintf("Postgres %s par=%d: postgres ÷ pgx-raw (same SQL) ops/s", op, par),
				a: q("postgres"), b: q("pgx-raw"), want: atLeast(0.90)})
		}
	}
	return ts
}

// overhead returns the P1 or P2 targets of store over raw: at least 0.90 of
// the raw client's throughput, and at most 2 more allocations per op.
func overhead(id, store, raw string) []target {
	var ts []target
	for _, op := range []string{"Get", "Set"} {
		for _, par := range pars {
			ts = append(ts,
				target{id: id, what: fmt.Sprintf("%s par=%d: %s ÷ %s ops/s", op, par, store, raw),
					a: ops(op, par, store), b: ops(op, par, raw), want: atLeast(0.90)},
				target{id: id, what: fmt.Sprintf("%s par=%d: %s − %s allocs/op", op, par, store, raw),
					a: quantity{bench(op, par, store), "allocs/op"}, b: quantity{bench(op, par, raw), "allocs/op"},
					diff: true, want: atMost(2)})
		}
	}
	return ts
}

// The results of a target.
var resultOrder = []string{"pass", "miss", "info", "no data"}

// printTable writes the table of targets measured in res, and a summary.
func printTable(w io.Writer, res results) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tmeasured (medians over the runs)\tvalue\twant\tresult")
	counts := make(map[string]int)
	for _, t := range targets() {
		value, result := "—", "no data"
		if m, ok := t.measure(res); ok {
			value, result = strconv.FormatFloat(m, 'f', 2, 64), "miss"
			if t.diff {
				value = fmt.Sprintf("%+g", m)
			}
			switch {
			case t.want == none:
				result = "info"
			case t.want.contain(m):
				result = "pass"
			}
		}
		counts[result]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.id, t.what, value, t.want, result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var summary []string
	for _, r := range resultOrder {
		summary = append(summary, fmt.Sprintf("%d %s", counts[r], r))
	}
	_, err := fmt.Fprintf(w, "\n%s. Figures from a busy machine are noisy: re-run on a quiet one before trusting a miss.\n",
		strings.Join(summary, ", "))
	return err
}
