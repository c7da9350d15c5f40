package main

import (
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
)

// fixture parses testdata/bench.txt: three runs of a few benchmarks, with
// the lines go test prints around them.
func fixture(t *testing.T) results { return fixtureFile(t, "testdata/bench.txt") }

// fixtureFile parses the benchmark output in the file called name.
func fixtureFile(t *testing.T, name string) results {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestParse(t *testing.T) {
	res := fixture(t)
	if len(res) != 10 {
		t.Errorf("parsed %d benchmarks, want 10: %v", len(res), res)
	}
	for _, tc := range []struct {
		q    quantity
		want float64
	}{
		{quantity{"Stores/Get/par=8/impl=goredis", "ns/op"}, 23000},
		{quantity{"Stores/Get/par=8/impl=goredis", "ops/s"}, 1e9 / 23000},
		{quantity{"Stores/Get/par=8/impl=goredis", "allocs/op"}, 9},
		{quantity{"Stores/GetMulti100/par=8/impl=goredis", "keys/s"}, 1200000},
		{quantity{"Stores/CacheMemory/impl=rueidiskv", "heap-MiB"}, 18},
		{quantity{"Overhead/Get/raw/par=1", "ns/op"}, 53459},        // no -N suffix: GOMAXPROCS=1
		{quantity{"ConfigPropagation/impl=goredis", "p99-ms"}, 1.5}, // two runs
		{quantity{"ConfigPropagation/impl=rueidiskv", "p50-ms"}, 0.5},
	} {
		got, ok := res.get(tc.q)
		if !ok || got != tc.want {
			t.Errorf("get(%v) = %v, %v; want %v, true", tc.q, got, ok, tc.want)
		}
	}
	if got, ok := res.get(quantity{"Stores/Get/par=8/impl=goredis-raw", "keys/s"}); ok {
		t.Errorf("get of a unit never reported = %v, true; want false", got)
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := parse(strings.NewReader("PASS\nok  \tpkg\t1.0s\n")); err == nil {
		t.Errorf("parse of output without results: got no error")
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		vs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got, _ := median(tc.vs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.vs, got, tc.want)
		}
	}
	if _, ok := median(nil); ok {
		t.Errorf("median(nil) reports data")
	}
}

// targetRows returns the targets by what they read, and fails t if two
// read the same.
func targetRows(t *testing.T) map[string]target {
	t.Helper()
	rows := make(map[string]target)
	for _, tg := range targets() {
		if _, dup := rows[tg.what]; dup {
			t.Errorf("two targets read %q", tg.what)
		}
		rows[tg.what] = tg
	}
	return rows
}

// checkTarget checks that the target reading what measures want in res
// (within a rounding error), passing or missing as pass says.
func checkTarget(t *testing.T, rows map[string]target, res results, what string, want float64, pass bool) {
	t.Helper()
	tg, ok := rows[what]
	if !ok {
		t.Errorf("no target %q", what)
		return
	}
	got, ok := tg.measure(res)
	if !ok || math.Abs(got-want) > 1e-4*math.Abs(want) || tg.want.contain(got) != pass {
		t.Errorf("%s: measured %v (data %v, within %s: %v), want %v (pass %v)",
			what, got, ok, tg.want, tg.want.contain(got), want, pass)
	}
}

func TestTargets(t *testing.T) {
	res := fixture(t)
	rows := targetRows(t)
	for _, tc := range []struct {
		what string
		want float64
		pass bool
	}{
		// 20000 ns/op raw, 23000 ns/op store: 0.87 of the raw throughput.
		{"Get par=8: goredis ÷ goredis-raw ops/s", 20000.0 / 23000, false},
		{"Get par=8: goredis − goredis-raw allocs/op", 2, true},
		// 1.2M keys/s over 1e9/23000 ops/s.
		{"par=8: goredis GetMulti100 keys/s ÷ Get ops/s", 1.2e6 * 23000 / 1e9, true},
		{"Get par=2: memory ÷ syncmap time/op", 60.0 / 22, true},
		{"CacheMemory: Go heap growth ÷ configured cache (16 MiB, filled 3×)", 1.15, true},
		// A single median, no ratio.
		{"ConfigPropagation goredis: p99 ms, another client's write → watcher callback", 1.5, true},
		{"ConfigPropagation rueidiskv: p99 ms, another client's write → watcher callback", 70, false},
	} {
		checkTarget(t, rows, res, tc.what, tc.want, tc.pass)
	}
	if got, ok := rows["Get par=1: goredis ÷ goredis-raw ops/s"].measure(res); ok {
		t.Errorf("target without data measured %v", got)
	}
}

// TestWriteTargets checks targets A1 to A6 on testdata/writes.txt: three
// runs of the write and lock benchmarks at one goroutine count.
func TestWriteTargets(t *testing.T) {
	res := fixtureFile(t, "testdata/writes.txt")
	rows := targetRows(t)
	for _, tc := range []struct {
		what string
		want float64
		pass bool
	}{
		// 20000 ns/op raw, 21000 ns/op store.
		{"CompareAndSwap par=8: goredis ÷ goredis-raw ops/s", 20000.0 / 21000, true},
		{"CompareAndSwap par=8: rueidiskv-nocache ÷ rueidis-raw ops/s", 10000.0 / 12500, false},
		// MSET (200000 ns/op) beats the pipeline (300000): the anchor.
		{"SetMulti100 par=8: goredis ÷ the better of goredis-raw and goredis-pipe ops/s", 200000.0 / 210000, true},
		// The pipeline (150000 ns/op) beats MSET (170000): the anchor.
		{"SetMulti100 par=8: rueidiskv-nocache ÷ the better of rueidis-raw and rueidis-pipe ops/s", 150000.0 / 160000, true},
		// 100 keys per 210000 ns over one Set per 25000 ns.
		{"par=8: goredis SetMulti100 keys/s ÷ Set ops/s", 100 * 25000.0 / 210000, true},
		{"par=8: rueidiskv-nocache SetMulti100 keys/s ÷ Set ops/s", 100 * 12000.0 / 160000, false},
		// The raw client's own: MSET's 500000 keys/s (the median) over one
		// SET per 25000 ns.
		{"par=8: goredis-raw MSET of 100 keys/s ÷ SET ops/s (raw, for reference)", 500000 * 25000.0 / 1e9, true},
		{"Incr par=8: goredis ÷ goredis-raw ops/s", 18000.0 / 19000, true},
		// BenchmarkLock, not BenchmarkStores.
		{"Lock par=1: goredis ÷ goredis-raw ops/s", 0.5, false},
	} {
		checkTarget(t, rows, res, tc.what, tc.want, tc.pass)
	}
	for _, what := range []string{
		// The store is missing; its anchors are there.
		"SetMulti100 par=8: rueidiskv ÷ the better of rueidis-raw and rueidis-pipe ops/s",
		// Neither anchor is there.
		"SetMulti100 par=1: goredis ÷ the better of goredis-raw and goredis-pipe ops/s",
		"Incr par=8: rueidiskv-nocache ÷ rueidis-raw ops/s",
		"Lock par=8: goredis ÷ goredis-raw ops/s",
	} {
		if got, ok := rows[what].measure(res); ok {
			t.Errorf("%s: target without data measured %v", what, got)
		}
	}
	// One anchor missing: no data, rather than a ratio to the other.
	delete(res, "Stores/SetMulti100/par=8/impl=goredis-pipe")
	if got, ok := rows["SetMulti100 par=8: goredis ÷ the better of goredis-raw and goredis-pipe ops/s"].measure(res); ok {
		t.Errorf("target with one of its two anchors measured %v", got)
	}
}

// TestAnchorTargets checks targets T1, C1 to C3 and M1 on
// testdata/anchors.txt: one run of BenchmarkTyped, BenchmarkCluster and
// BenchmarkStores' GetMulti100 at a few goroutine counts.
func TestAnchorTargets(t *testing.T) {
	res := fixtureFile(t, "testdata/anchors.txt")
	rows := targetRows(t)
	const anchors = "the better of rueidis-helper and goredis-pipe ops/s"
	for _, tc := range []struct {
		what string
		want float64
		pass bool
	}{
		{"Typed par=1: codec-rueidiskv ÷ goredis-cache (local Get) ops/s", 2000.0 / 3000, false},
		{"Typed par=8: codec-rueidiskv ÷ goredis-cache (local Get) ops/s", 1100.0 / 1000, true},
		// The go-redis pipeline (320000 ns/op) beats rueidis.MGet (500000).
		{"Cluster GetMulti100 par=8: goredis ÷ " + anchors, 320000.0 / 400000, false},
		{"Cluster GetMulti100 par=8: rueidiskv-nocache ÷ " + anchors, 320000.0 / 300000, true},
		// The cached read must be twice the anchor: 1.6 is a miss.
		{"Cluster GetMulti100 par=8: rueidiskv ÷ " + anchors, 320000.0 / 200000, false},
		// rueidis.MSet (700000 ns/op) beats the pipeline (800000).
		{"Cluster SetMulti100 par=1: goredis ÷ " + anchors, 700000.0 / 900000, false},
		{"Cluster DeleteMulti100 par=64: rueidiskv-nocache ÷ " + anchors, 310000.0 / 300000, true},
		// goredis against the go-redis pipeline alone, a row without a
		// target: none contains every ratio.
		{"Cluster GetMulti100 par=8: goredis ÷ goredis-pipe ops/s (its own client, for reference)", 320000.0 / 400000, true},
		{"Cluster SetMulti100 par=1: goredis ÷ goredis-pipe ops/s (its own client, for reference)", 800000.0 / 900000, true},
		{"Cluster GetMulti100 par=8: goredis ÷ goredis-separate ops/s (shared pipelines ÷ one a call, for reference)", 500000.0 / 400000, true},
		// goredis (250000 ns/op) against go-redis's autopipeliner (310000).
		{"Cluster DeleteMulti100 par=64: goredis ÷ goredis-autopipe ops/s (shared pipelines ÷ go-redis's autopipeliner, for reference)", 310000.0 / 250000, true},
		{"Cluster DeleteMulti100 par=64: goredis ÷ " + anchors, 310000.0 / 250000, true},
		{"GetMulti100 par=64: goredis ÷ goredis-raw (MGET) ops/s", 100000.0 / 104000, true},
		{"GetMulti100 par=64: rueidiskv-nocache ÷ rueidis-raw (MGET) ops/s", 90000.0 / 100000, false},
	} {
		checkTarget(t, rows, res, tc.what, tc.want, tc.pass)
	}
	for _, what := range []string{
		"Typed par=64: codec-rueidiskv ÷ goredis-cache (local Get) ops/s",
		// The store is missing; its anchors are there.
		"Cluster SetMulti100 par=1: rueidiskv-nocache ÷ " + anchors,
		// Nothing is there.
		"Cluster GetMulti100 par=1: goredis ÷ " + anchors,
	} {
		if got, ok := rows[what].measure(res); ok {
			t.Errorf("%s: target without data measured %v", what, got)
		}
	}
	// One anchor missing: no data, rather than a ratio to the other.
	delete(res, "Cluster/SetMulti100/par=1/impl=goredis-pipe")
	if got, ok := rows["Cluster SetMulti100 par=1: goredis ÷ "+anchors].measure(res); ok {
		t.Errorf("target with one of its two anchors measured %v", got)
	}
}

// TestPostgresTargets checks the PG targets and the P12 rows of postgres on
// testdata/postgres.txt: three runs of a few of BenchmarkPostgres's
// sub-benchmarks and of BenchmarkConfigPropagation/impl=postgres.
func TestPostgresTargets(t *testing.T) {
	res := fixtureFile(t, "testdata/postgres.txt")
	rows := targetRows(t)
	for _, tc := range []struct {
		what string
		want float64
		pass bool
	}{
		// Medians 110000 ns/op raw, 110000 ns/op store.
		{"Postgres Get par=8: postgres ÷ pgx-raw (same SQL) ops/s", 1, true},
		// Medians 210000 ns/op raw, 400000 ns/op store.
		{"Postgres GetMulti100 par=64: postgres ÷ pgx-raw (same SQL) ops/s", 210000.0 / 400000, false},
		// Single medians.
		{"ConfigPropagation postgres: p50 ms, another client's write → watcher callback", 0.6, true},
		{"ConfigPropagation postgres: p99 ms, another client's write → watcher callback", 1.5, true},
	} {
		checkTarget(t, rows, res, tc.what, tc.want, tc.pass)
	}
	for _, what := range []string{
		// The store is there, its raw client is not.
		"Postgres Set par=1: postgres ÷ pgx-raw (same SQL) ops/s",
		// Neither is there.
		"Postgres Set par=64: postgres ÷ pgx-raw (same SQL) ops/s",
	} {
		if got, ok := rows[what].measure(res); ok {
			t.Errorf("%s: target without data measured %v", what, got)
		}
	}
	checkTable(t, res,
		"P12 | ConfigPropagation postgres: p99 ms, another client's write → watcher callback | 1.50 | ≤ 50 | pass\n",
		"PG | Postgres GetMulti100 par=64: postgres ÷ pgx-raw (same SQL) ops/s | 0.53 | ≥ 0.90 | miss\n",
	)
}

func TestBounds(t *testing.T) {
	for _, tc := range []struct {
		b    bounds
		want string
		in   []float64
		out  []float64
	}{
		{atLeast(0.9), "≥ 0.90", []float64{0.9, 5}, []float64{0.89}},
		{atMost(2), "≤ 2", []float64{-1, 2}, []float64{2.01}},
		{between(0.85, 1.15), "0.85–1.15", []float64{0.85, 1, 1.15}, []float64{0.84, 1.16}},
		{none, "none", []float64{-1e9, 0, 1e9}, nil},
	} {
		if got := tc.b.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
		for _, v := range tc.in {
			if !tc.b.contain(v) {
				t.Errorf("%s does not contain %v", tc.b, v)
			}
		}
		for _, v := range tc.out {
			if tc.b.contain(v) {
				t.Errorf("%s contains %v", tc.b, v)
			}
		}
	}
}

func TestPrintTable(t *testing.T) {
	checkTable(t, fixture(t),
		"target | measured (medians over the runs) | value | want | result\n",
		"P1 | Get par=8: goredis ÷ goredis-raw ops/s | 0.87 | ≥ 0.90 | miss\n",
		"P1 | Get par=8: goredis − goredis-raw allocs/op | +2 | ≤ 2 | pass\n",
		"P2 | Get par=1: rueidiskv-nocache ÷ rueidis-raw ops/s | — | ≥ 0.90 | no data\n",
		"P12 | ConfigPropagation goredis: p50 ms, another client's write → watcher callback | 0.45 | ≤ 50 | pass\n",
		"P12 | ConfigPropagation rueidiskv: p99 ms, another client's write → watcher callback | 70.00 | ≤ 50 | miss\n",
		"P13 | CacheMemory: Go heap growth ÷ configured cache (16 MiB, filled 3×) | 1.15 | ≤ 1.20 | pass\n",
		"C1 | Cluster GetMulti100 par=8: rueidiskv ÷ the better of rueidis-helper and goredis-pipe ops/s | — | ≥ 2 | no data\n",
		"\n7 pass, 2 miss, 0 info, 159 no data.",
	)
}

// TestInfoAndTwinRows checks that a row without a target (P3 at 1
// goroutine) is shown as info whatever it reads, and that the twin rows
// (N1) pass within 10 % and miss outside.
func TestInfoAndTwinRows(t *testing.T) {
	in := `BenchmarkStores/Get/par=1/impl=goredis-raw-2 	 1000	 40000 ns/op
BenchmarkStores/Get/par=1/impl=goredis-2 	 1000	 40000 ns/op
BenchmarkStores/Get/par=1/impl=rueidis-raw-2 	 1000	 50000 ns/op
BenchmarkStores/Get/par=1/impl=rueidiskv-nocache-2 	 1000	 50000 ns/op
BenchmarkStores/Get/par=1/impl=rueidis-twin-2 	 1000	 52000 ns/op
BenchmarkStores/GetMulti100/par=8/impl=rueidis-raw-2 	 1000	 80000 ns/op
BenchmarkStores/GetMulti100/par=8/impl=rueidis-twin-2 	 1000	 100000 ns/op
`
	res, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, res,
		"P3 | Get par=1: rueidiskv-nocache ÷ goredis ops/s | 0.80 | none | info\n",
		"P3 | Get par=1: rueidis-raw ÷ goredis-raw ops/s | 0.80 | none | info\n",
		"N1 | Get par=1: rueidis-raw ÷ rueidis-twin ops/s | 1.04 | 0.90–1.10 | pass\n",
		"N1 | GetMulti100 par=8: rueidis-raw ÷ rueidis-twin ops/s | 1.25 | 0.90–1.10 | miss\n",
		"\n3 pass, 1 miss, 2 info, ",
	)
}

// checkTable checks that the table printTable prints for res holds every
// line of wants, its columns (aligned with two spaces or more) written
// apart by " | ".
func checkTable(t *testing.T, res results, wants ...string) {
	t.Helper()
	var out strings.Builder
	if err := printTable(&out, res); err != nil {
		t.Fatal(err)
	}
	table := regexp.MustCompile(`  +`).ReplaceAllString(out.String(), " | ")
	for _, want := range wants {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
