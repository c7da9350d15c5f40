package parbench

import (
	"flag"
	"regexp"
	"strings"
	"testing"
)

// Selected reports whether the -test.bench pattern of the run selects leaf,
// a sub-benchmark of b, as the testing package's filter would: so that a
// benchmark that measures its sub-benchmarks before running them, as
// [Alternate] does, measures only those that will report. Outside a test
// binary, or with a pattern that does not compile, it reports true.
func Selected(b *testing.B, leaf string) bool {
	f := flag.Lookup("test.bench")
	if f == nil {
		return true
	}
	names := append(strings.Split(b.Name(), "/"), leaf)
	for _, alt := range splitPattern(f.Value.String()) {
		if matchesAll(alt, names) {
			return true
		}
	}
	return false
}

// matchesAll reports whether each of the elements of a pattern matches the
// name at its level; a pattern with fewer elements than names leaves the
// deeper names free.
func matchesAll(elems, names []string) bool {
	for i, name := range names {
		if i >= len(elems) {
			break
		}
		re, err := regexp.Compile(elems[i])
		if err != nil {
			return true
		}
		if !re.MatchString(name) {
			return false
		}
	}
	return true
}

// splitPattern splits a -test.bench pattern as the testing package does:
// into alternatives at each "|", and each alternative into the elements of
// its levels at each "/", except inside brackets or parentheses or after a
// backslash.
func splitPattern(s string) [][]string {
	var alts [][]string
	var elems []string
	brackets, parens := 0, 0
	for i := 0; i < len(s); {
		switch s[i] {
		case '[':
			brackets++
		case ']':
			brackets = max(brackets-1, 0)
		case '(':
			if brackets == 0 {
				parens++
			}
		case ')':
			if brackets == 0 {
				parens--
			}
		case '\\':
			i++
		case '/', '|':
			if brackets == 0 && parens == 0 {
				elems = append(elems, s[:i])
				if s[i] == '|' {
					alts = append(alts, elems)
					elems = nil
				}
				s = s[i+1:]
				i = 0
				continue
			}
		}
		i++
	}
	return append(alts, append(elems, s))
}
