package kv

import "strings"

// Match reports whether key matches pattern, with the exact rules of Redis's
// glob matcher (stringmatchlen), which SCAN MATCH, KEYS and PSUBSCRIBE use.
// Matching works on bytes, not runes:
//
//   - '*' matches any run of bytes, including none;
//   - '?' matches exactly one byte;
//   - '[abc]' matches one byte of the set; '[^abc]' one byte not in it;
//     '[a-z]' a byte in the range (a reversed range is swapped);
//     '\' inside a set quotes the next byte; an unclosed set extends to the
//     end of the pattern;
//   - '\x' matches the byte x literally, whatever x is;
//   - any other byte matches itself.
//
// As in SCAN and KEYS, the pattern "*" alone matches every key, even the
// empty one, which other patterns starting with '*' do not match.
//
// Match never panics and runs in bounded time on any input.
func Match(pattern, key string) bool {
	if pattern == "*" {
		return true
	}
	skipLonger := false
	return match(pattern, key, &skipLonger, 0)
}

// maxGlobNesting bounds the recursion on runs of '*', as Redis does.
const maxGlobNesting = 1000

// at returns s[i], or 0 past the end, mirroring the NUL terminator that the C
// implementation reads.
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func match(p, s string, skipLonger *bool, nesting int) bool {
	if nesting > maxGlobNesting {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if match(p[1:], s, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			// The rest of the pattern matched nowhere in the rest of the
			// string, so a longer match for an earlier '*' cannot help.
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			i := 1 // index in p of the byte being looked at
			not := at(p, i) == '^'
			if not {
				i++
			}
			matched := false
			c := int8(s[0]) // Redis compares signed chars
			for {
				if at(p, i) == '\\' && len(p)-i >= 2 {
					i++
					if p[i] == s[0] {
						matched = true
					}
				} else if at(p, i) == ']' && i < len(p) {
					break
				} else if i >= len(p) {
					// Unclosed set: step back so that the shared advance
					// below lands on the end of the pattern.
					i--
					break
				} else if len(p)-i >= 3 && p[i+1] == '-' {
					start, end := int8(p[i]), int8(p[i+2])
					if start > end {
						start, end = end, start
					}
					i += 2
					if c >= start && c <= end {
						matched = true
					}
				} else if p[i] == s[0] {
					matched = true
				}
				i++
			}
			if not {
				matched = !matched
			}
			if !matched {
				return false
			}
			s = s[1:]
			p = p[i:] // p[0] is the closing ']' (or the last byte), consumed below
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

// EscapePattern returns a glob pattern that matches key and nothing else, by
// quoting every byte that [Match] treats specially. Use it to watch or scan
// one key whose bytes may include '*', '?', '[', ']' or '\'.
func EscapePattern(key string) string {
	if !strings.ContainsAny(key, `*?[]\`) {
		return key
	}
	var b strings.Builder
	b.Grow(len(key) + 4)
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
