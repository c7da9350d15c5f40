package robustness

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// shrink returns a sequence, no longer than seq and usually far shorter,
// for which fails still reports true: it drops runs of steps, halving their
// length down to one step, then simplifies the arguments of each step, and
// starts again while anything got smaller, until the deadline. seq must
// fail. In real time (exact false) a step with a short TTL keeps the Sleep
// after it, so that the result depends on no timing.
func shrink(seq []step, exact bool, fails func([]step) bool, deadline time.Time) []step {
	try := func(c []step) bool {
		if time.Now().After(deadline) || (!exact && !sleepsAfterShortTTL(c)) {
			return false
		}
		return fails(c)
	}
	for progress := true; progress && time.Now().Before(deadline); {
		progress = false
		for size := len(seq) / 2; size >= 1; size /= 2 {
			for i := 0; i+size <= len(seq); {
				c := slices.Concat(seq[:i], seq[i+size:])
				if try(c) {
					seq, progress = c, true
					continue
				}
				i += size
			}
		}
		for i := range seq {
			for _, s := range simpler(seq[i]) {
				c := slices.Clone(seq)
				c[i] = s
				if try(c) {
					seq, progress = c, true
					break
				}
			}
		}
	}
	return seq
}

// sleepsAfterShortTTL reports whether every step of seq that may set a short
// TTL is followed by a Sleep.
func sleepsAfterShortTTL(seq []step) bool {
	for i, s := range seq {
		if hasShortTTL(s) && (i+1 == len(seq) || seq[i+1].Kind != kSleep) {
			return false
		}
	}
	return true
}

// simpler returns simpler variants of s: fewer keys or items, an empty or
// plainer value, the first key.
func simpler(s step) []step {
	var out []step
	for i := range s.Keys {
		c := s
		c.Keys = slices.Delete(slices.Clone(s.Keys), i, i+1)
		out = append(out, c)
	}
	for i := range s.Items {
		c := s
		c.Items = slices.Delete(slices.Clone(s.Items), i, i+1)
		out = append(out, c)
		if s.Items[i].TTL != 0 {
			c := s
			c.Items = slices.Clone(s.Items)
			c.Items[i].TTL = 0
			out = append(out, c)
		}
	}
	if len(s.Value) > 0 {
		c := s
		c.Value = []byte{}
		out = append(out, c)
		if string(s.Value) != "x" {
			c.Value = []byte("x")
			out = append(out, c)
		}
	}
	if len(s.Old) > 0 {
		c := s
		c.Old = []byte{}
		out = append(out, c)
	}
	if s.Key != "a" && !slices.Contains([]stepKind{kSleep, kScan, kGetMulti, kSetMulti, kDeleteMulti, kLatestMulti}, s.Kind) {
		c := s
		c.Key = "a"
		out = append(out, c)
	}
	if s.Pattern != "*" && s.Kind == kScan {
		c := s
		c.Pattern = "*"
		out = append(out, c)
	}
	return out
}

// reproTest returns a Go test function that replays seq on the named
// target, ready to paste into a _test.go file of this package.
func reproTest(target string, seq []step) string {
	var b strings.Builder
	b.WriteString("func TestDiffRepro(t *testing.T) {\n")
	fmt.Fprintf(&b, "\treplay(t, %q, []step{\n", target)
	for _, s := range seq {
		fmt.Fprintf(&b, "\t\t%s,\n", s.goLiteral())
	}
	b.WriteString("\t})\n}\n")
	return b.String()
}
