package staleread

import "testing"

func TestReplaced(t *testing.T) {
	// a [1,2], b [3,5], c [4,9], overlapping b.
	a, b, c := Call{1, 2}, Call{3, 5}, Call{4, 9}
	ws := New([]Call{c, a, b})
	for _, tt := range []struct {
		name  string
		w     Call
		t     int64
		start int64
		want  bool
	}{
		{"a, read before b returned", a, 5, 0, false},
		{"a, read after b returned", a, 6, 3, true},
		{"b, read after c returned: c overlapped b", b, 10, 0, false},
		{"a, read after c returned", a, 10, 4, true},
		{"the zero call, a missing key, read after a returned", Call{}, 3, 1, true},
		{"the zero call, read before any write returned", Call{}, 2, 0, false},
	} {
		start, got := ws.Replaced(tt.w, tt.t)
		if got != tt.want || got && start != tt.start {
			t.Errorf("%s: Replaced(%v, %d) = %d, %v; want %d, %v", tt.name, tt.w, tt.t, start, got, tt.start, tt.want)
		}
	}
}
