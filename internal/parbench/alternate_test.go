package parbench

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// A recorder records the calls of entrants: the order of their turns and
// each goroutine's call numbers.
type recorder struct {
	mu    sync.Mutex
	turns []int           // the entrant of each turn, in order
	calls []map[int][]int // calls[e][g]: goroutine g's call numbers
}

func newRecorder(entrants int) *recorder {
	r := &recorder{calls: make([]map[int][]int, entrants)}
	for e := range r.calls {
		r.calls[e] = make(map[int][]int)
	}
	return r
}

// entrants returns n entrants whose calls sleep for pause and are recorded.
func (r *recorder) entrants(n int, pause time.Duration) []Entrant {
	es := make([]Entrant, n)
	for e := range es {
		es[e] = Entrant{Name: string(rune('a' + e)), Call: func(g, i int) error {
			r.mu.Lock()
			if len(r.turns) == 0 || r.turns[len(r.turns)-1] != e {
				r.turns = append(r.turns, e)
			}
			r.calls[e][g] = append(r.calls[e][g], i)
			r.mu.Unlock()
			time.Sleep(pause)
			return nil
		}}
	}
	return es
}

func TestAlternateTakesTurns(t *testing.T) {
	SetBenchtime(t, "250ms")
	const par = 3
	r := newRecorder(3)
	results, err := Alternate(par, r.entrants(3, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// One unmeasured turn each, then rounds of 100 ms turns until each has
	// run for 250 ms (three turns, unless the machine stretches a turn),
	// the first entrant of each round one further along. The recorder sees
	// two turns of one entrant in a row as one.
	measured := make([]int, 3)
	for e, res := range results {
		measured[e] = res.Turns
	}
	want := []int{0, 1, 2}
	for round := 0; slices.ContainsFunc(measured, func(n int) bool { return n > 0 }); round++ {
		for k := range 3 {
			if e := (k + round) % 3; measured[e] > 0 {
				want = append(want, e)
				measured[e]--
			}
		}
	}
	want = slices.Compact(want)
	if !slices.Equal(r.turns, want) || len(r.turns) < 6 {
		t.Errorf("turns went to entrants %v, want %v: one each, then rounds rotating", r.turns, want)
	}
	for e, res := range results {
		if res.Elapsed < 250*time.Millisecond || res.Elapsed > 5*time.Second {
			t.Errorf("entrant %d ran for %v in its measured turns, want about 300 ms (three turns)", e, res.Elapsed)
		}
		total := 0
		if len(r.calls[e]) != par {
			t.Errorf("entrant %d was called by %d goroutines, want %d", e, len(r.calls[e]), par)
		}
		for g, is := range r.calls[e] {
			if g < 0 || g >= par {
				t.Errorf("entrant %d was called by goroutine %d, want 0 to %d", e, g, par-1)
			}
			for k, i := range is {
				if i != k {
					t.Fatalf("entrant %d, goroutine %d: call numbers %v, want 0, 1, 2, ... across turns", e, g, is)
				}
			}
			total += len(is)
		}
		if res.Calls <= 0 || res.Calls >= total {
			t.Errorf("entrant %d: %d calls measured of %d made, want some, and fewer than all (the first turn is not measured)", e, res.Calls, total)
		}
	}
}

func TestAlternateCountsCalls(t *testing.T) {
	SetBenchtime(t, "7x")
	r := newRecorder(2)
	results, err := Alternate(4, r.entrants(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	for e, res := range results {
		if res.Calls != 7 {
			t.Errorf("entrant %d: %d calls measured, want 7 (-benchtime 7x)", e, res.Calls)
		}
	}
	if want := []int{0, 1, 0, 1}; !slices.Equal(r.turns, want) {
		t.Errorf("turns went to entrants %v, want %v: one unmeasured and one of 7 calls each", r.turns, want)
	}
}

func TestAlternateStopsAtAnError(t *testing.T) {
	SetBenchtime(t, "1s")
	broken := errors.New("broken")
	calls := 0
	var mu sync.Mutex
	es := []Entrant{
		{Name: "fine", Call: func(int, int) error { time.Sleep(time.Millisecond); return nil }},
		{Name: "failing", Call: func(g, i int) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 5 {
				return broken
			}
			return nil
		}},
	}
	start := time.Now()
	_, err := Alternate(2, es)
	if !errors.Is(err, broken) || !strings.HasPrefix(err.Error(), "failing: ") {
		t.Errorf("got err %v, want the broken call's error, after the entrant's name", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Alternate took %v to return an error in the first turns", d)
	}
}

func TestReport(t *testing.T) {
	r := Result{Calls: 200, Elapsed: 10 * time.Millisecond, Bytes: 6400, Allocs: 400}
	for _, bt := range []string{"1s", "1x", "5x"} {
		SetBenchtime(t, bt)
		if got := testing.Benchmark(func(b *testing.B) { report(b, r, 100, false) }); got.N != 200 {
			t.Errorf("-benchtime %s: iterations: got %d, want the 200 calls", bt, got.N)
		}
	}
	SetBenchtime(t, "100ms")
	final := testing.Benchmark(func(b *testing.B) {
		time.Sleep(150 * time.Millisecond) // as a body that measures: longer than -benchtime
		report(b, r, 100, true)
	})
	if final.N != 200 {
		t.Errorf("a body that measures: iterations: got %d, want the 200 calls", final.N)
	}
	got := testing.Benchmark(func(b *testing.B) { report(b, r, 100, false) })
	for unit, want := range map[string]float64{"ns/op": 50000, "B/op": 32, "allocs/op": 2, "keys/s": 2e6} {
		if v := got.Extra[unit]; v != want {
			t.Errorf("%s: got %v, want %v", unit, v, want)
		}
	}
	if s := got.String(); !strings.Contains(s, "50000 ns/op") {
		t.Errorf("the result line %q does not show 50000 ns/op", s)
	}
}
