package robustness

import (
	"go/parser"
	"go/token"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

// TestShrinkKeepsWhatFails shrinks a long sequence whose failure needs two
// of its steps, with simpler arguments, and expects those two steps alone.
func TestShrinkKeepsWhatFails(t *testing.T) {
	seq := generate(7, 60, false)
	seq = append(seq[:20:20], append([]step{{Kind: kSet, Key: "b", Value: []byte("41")}}, seq[20:]...)...)
	seq = append(seq, step{Kind: kDelete, Key: "b"})
	// The "bug": a Set of b followed, at any distance, by a Delete of b.
	fails := func(c []step) bool {
		for i, s := range c {
			if s.Kind == kSet && s.Key == "b" {
				for _, d := range c[i+1:] {
					if d.Kind == kDelete && d.Key == "b" {
						return true
					}
				}
			}
		}
		return false
	}
	got := shrink(seq, false, fails, time.Now().Add(time.Minute))
	want := []step{{Kind: kSet, Key: "b", Value: []byte{}}, {Kind: kDelete, Key: "b"}}
	if len(got) != 2 || got[0].Kind != want[0].Kind || string(got[0].Value) != "" || got[1].Kind != want[1].Kind {
		t.Fatalf("shrunk to %v, want %v", got, want)
	}
}

// TestShrinkKeepsSleepAfterShortTTL checks that in real time a step with a
// short TTL is never left without the Sleep that makes its expiry certain.
func TestShrinkKeepsSleepAfterShortTTL(t *testing.T) {
	seq := []step{
		{Kind: kSetWithTTL, Key: "a", Value: []byte("x"), TTL: shortTTL},
		{Kind: kSleep, TTL: shortSleep},
		{Kind: kGet, Key: "a"},
	}
	got := shrink(seq, false, func(c []step) bool {
		return len(c) > 0 && c[0].Kind == kSetWithTTL
	}, time.Now().Add(time.Minute))
	if len(got) != 2 || got[1].Kind != kSleep {
		t.Fatalf("shrunk to %v, want the SetWithTTL and its Sleep", got)
	}
}

// TestReproTestParses checks that a failure's test function is Go.
func TestReproTestParses(t *testing.T) {
	seq := generate(11, 80, true)
	src := "package robustness\n\n" + reproTest(manualClockTarget, seq)
	if _, err := parser.ParseFile(token.NewFileSet(), "repro_test.go", src, 0); err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
}

// TestMatchEvents checks the comparison of one key's events with the
// model's, a Prune's OpSets among them.
func TestMatchEvents(t *testing.T) {
	want := []wantEvent{{Op: kv.OpSet, Max: 1}, {Op: kv.OpSet, Max: 3}, {Op: kv.OpDelete, Max: 1}}
	for _, c := range []struct {
		got          []kv.Op
		whole, start bool
	}{
		{[]kv.Op{kv.OpSet, kv.OpSet, kv.OpDelete}, true, true},
		{[]kv.Op{kv.OpSet, kv.OpSet, kv.OpSet, kv.OpSet, kv.OpDelete}, true, true},
		{[]kv.Op{kv.OpSet, kv.OpSet, kv.OpSet, kv.OpSet, kv.OpSet, kv.OpDelete}, false, false},
		{[]kv.Op{kv.OpSet, kv.OpDelete}, false, false},
		{[]kv.Op{kv.OpSet, kv.OpSet}, false, true},
		{nil, false, true},
	} {
		if got := matchEvents(c.got, want, false); got != c.whole {
			t.Errorf("matchEvents(%v) = %v, want %v", c.got, got, c.whole)
		}
		if got := matchEvents(c.got, want, true); got != c.start {
			t.Errorf("matchEvents(%v) as a start = %v, want %v", c.got, got, c.start)
		}
	}
}
