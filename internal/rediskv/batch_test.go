package rediskv

import (
	"slices"
	"testing"
)

// TestScratch checks that the strings a scratch hands out do not overlap,
// even when appended to, and that it hands out new ones when full.
func TestScratch(t *testing.T) {
	sc := newScratch(5)
	a := sc.take(2)
	b := sc.take(3)
	a = append(a, "x") // past a's length: must not reach b
	a[0], a[1] = "a0", "a1"
	b[0], b[1], b[2] = "b0", "b1", "b2"
	if !slices.Equal(a, []string{"a0", "a1", "x"}) || !slices.Equal(b, []string{"b0", "b1", "b2"}) {
		t.Errorf("took %q and %q, want them apart", a, b)
	}
	c := sc.take(1) // no room left: a new one
	c[0] = "c0"
	if !slices.Equal(b, []string{"b0", "b1", "b2"}) || len(c) != 1 {
		t.Errorf("a take past the scratch's room gave %q and left %q", c, b)
	}
	sc.free()
	if d := newScratch(5).take(5); !slices.Equal(d, make([]string, 5)) {
		t.Errorf("a scratch reused after free gave %q, want empty strings", d)
	}
}
