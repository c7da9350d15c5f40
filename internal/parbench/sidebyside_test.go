package parbench

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSideBySide runs BenchmarkSideBySideProbe in a process of its own at
// two GOMAXPROCS, three times each, and checks that each of its entrants
// reports each of the six measurements once, in order, with its calls as
// the iterations.
func TestSideBySide(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary")
	}
	out, err := exec.Command(os.Args[0], "-test.run", "^$", "-test.bench", "SideBySideProbe/",
		"-test.benchtime", "4x", "-test.count", "3", "-test.cpu", "1,2", "-test.benchmem").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	result := regexp.MustCompile(`^BenchmarkSideBySideProbe/impl=(\w+)(?:-2)?\s+(\d+)\s+[\d.]+ ns/op\s+(\d+) B/op`)
	bytesPerOp := map[string][]float64{}
	for _, line := range strings.Split(string(out), "\n") {
		m := result.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if m[2] != "4" {
			t.Errorf("%q: %s iterations, want the 4 calls measured (-test.benchtime 4x)", line, m[2])
		}
		n, _ := strconv.ParseFloat(m[3], 64)
		bytesPerOp[m[1]] = append(bytesPerOp[m[1]], n)
	}
	if !strings.Contains(string(out), "prepared "+strings.TrimSpace(strings.Repeat("a b ", 6))) {
		t.Errorf("want the entrants prepared six times, in order:\n%s", out)
	}
	// Measurement k's calls allocate k × 64 KiB: each entrant's six results
	// grow, one for each measurement, in the order they were made.
	for _, name := range []string{"a", "b"} {
		got := bytesPerOp[name]
		if len(got) != 6 || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != 6 {
			t.Errorf("impl=%s reported B/op %v, want six growing ones, one for each measurement:\n%s", name, got, out)
		}
	}
}

// BenchmarkSideBySideProbe measures two entrants whose calls allocate 64 KiB
// times the number of times they were prepared, then prints the order they
// were prepared in, for TestSideBySide.
func BenchmarkSideBySideProbe(b *testing.B) {
	var prepared []string
	entrant := func(name string) Entrant {
		var gen atomic.Int64
		return Entrant{Name: name,
			Prepare: func() error { gen.Add(1); prepared = append(prepared, name); return nil },
			Call:    func(int, int) error { sink = make([]byte, gen.Load()<<16); return nil }}
	}
	SideBySide(b, 1, 0, []Entrant{entrant("a"), entrant("b")})
	fmt.Println("prepared", strings.Join(prepared, " "))
}

// sink keeps BenchmarkSideBySideProbe's allocations on the heap.
var sink []byte
