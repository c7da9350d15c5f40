// Package staleread finds reads that returned a value which another write
// had replaced before they began: the read-after-write check that the
// conformance suite and the backends' consistency tests share.
package staleread

import (
	"cmp"
	"slices"
)

// A Call is when a call started and when it returned, on one clock that
// every call of a history reads.
type Call struct{ Start, End int64 }

// Writes are the writes of one key, each of a value of its own.
type Writes struct {
	byEnd []Call // by End
	// latest[i] is the latest Start among byEnd[:i+1].
	latest []int64
}

// New returns the writes ws, given in any order.
func New(ws []Call) *Writes {
	byEnd := slices.Clone(ws)
	slices.SortFunc(byEnd, func(a, b Call) int { return cmp.Compare(a.End, b.End) })
	latest := make([]int64, len(byEnd))
	for i, w := range byEnd {
		latest[i] = w.Start
		if i > 0 {
			latest[i] = max(latest[i], latest[i-1])
		}
	}
	return &Writes{byEnd: byEnd, latest: latest}
}

// Replaced reports whether a read that started at t and returned the
// value of write w read a replaced value: whether a write that started
// after w returned had itself returned before t. It also returns the start
// of the latest such write.
func (x *Writes) Replaced(w Call, t int64) (start int64, replaced bool) {
	// The writes that returned before t.
	n, _ := slices.BinarySearchFunc(x.byEnd, t, func(c Call, t int64) int { return cmp.Compare(c.End, t) })
	if n == 0 || x.latest[n-1] <= w.End {
		return 0, false
	}
	return x.latest[n-1], true
}
