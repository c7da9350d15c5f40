package parbench

import "testing"

// SideBySide benchmarks entrants side by side from par goroutines each:
// it runs a sub-benchmark impl=Name for each entrant that -test.bench
// selects, and each reports what [Alternate] measured of its entrant, with
// keys/s when a call reads or writes keys keys (0: none). The
// sub-benchmarks show their entrant's calls as their iterations, and the
// time, bytes and allocations of a call.
//
// The testing package runs each sub-benchmark -test.count times for each
// GOMAXPROCS of -test.cpu, one sub-benchmark after the other. The first
// sub-benchmark's runs each measure every entrant anew, with Alternate at
// that GOMAXPROCS; the others' runs report the same measurements, in turn,
// so that each measurement is reported once for each entrant.
func SideBySide(b *testing.B, par, keys int, entrants []Entrant) {
	b.Helper()
	var selected []Entrant
	for _, e := range entrants {
		if Selected(b, "impl="+e.Name) {
			selected = append(selected, e)
		}
	}
	m := &match{par: par, keys: keys, entrants: selected, last: make([]*testing.B, len(selected)), seen: make([]int, len(selected))}
	for i, e := range selected {
		b.Run("impl="+e.Name, func(b *testing.B) { m.report(b, i) })
	}
}

// A match holds the measurements of a SideBySide.
type match struct {
	par      int
	keys     int
	entrants []Entrant
	runs     [][]Result // runs[k][i]: entrant i in measurement k

	// last[i] is the testing.B of entrant i's latest run, and seen[i] the
	// number of its runs: the testing package gives each run a B of its
	// own, and calls the body of a run several times.
	last []*testing.B
	seen []int
}

// report reports, in b, entrant i's result in the measurement of b's run,
// measuring every entrant when this is the first run to need it.
func (m *match) report(b *testing.B, i int) {
	if m.last[i] != b {
		m.last[i] = b
		m.seen[i]++
	}
	k := m.seen[i] - 1
	measured := false
	for len(m.runs) <= k {
		results, err := Alternate(m.par, m.entrants)
		if err != nil {
			b.Fatal(err)
		}
		m.runs = append(m.runs, results)
		measured = true
	}
	report(b, m.runs[k][i], m.keys, measured)
}
