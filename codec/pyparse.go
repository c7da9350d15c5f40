package codec

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Python's JSON: the JSON of RFC 8259 and three more values, NaN, Infinity
// and -Infinity, which json.dumps writes for the special floats and
// json.loads reads. This file parses it: to check and rewrite the output of
// a MarshalJSON method, to decode values holding the special floats, which
// encoding/json rejects, and to compare two documents by what they hold.

// maxDepth bounds the nesting of arrays and objects, as encoding/json's
// does, so that no input can exhaust the stack.
const maxDepth = 10000

// A pySyntaxError reports data that is not Python's JSON.
type pySyntaxError struct {
	msg    string
	offset int
}

func (e *pySyntaxError) Error() string {
	return "codec: " + e.msg + " at offset " + strconv.Itoa(e.offset)
}

func syntaxError(msg string, offset int) error { return &pySyntaxError{msg, offset} }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// scanString returns the end of the JSON string that starts at data[i], a
// quote: the index after its closing quote.
func scanString(data []byte, i int) (int, error) {
	start := i
	for i++; i < len(data); {
		switch c := data[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(data) {
				return 0, syntaxError("unexpected end of JSON input in a string", start)
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) {
					return 0, syntaxError("unexpected end of JSON input in a string", start)
				}
				for _, h := range data[i+2 : i+6] {
					if unhex(h) < 0 {
						return 0, syntaxError("invalid \\u escape in a string", i)
					}
				}
				i += 6
			default:
				return 0, syntaxError("invalid escape in a string", i)
			}
		case c < 0x20:
			return 0, syntaxError("control character in a string", i)
		default:
			i++
		}
	}
	return 0, syntaxError("unexpected end of JSON input in a string", start)
}

func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber returns the end of the JSON number that starts at data[i], and
// whether it has a fraction or an exponent (Python reads it as a float, and
// otherwise as an int).
func scanNumber(data []byte, i int) (end int, float bool, err error) {
	start := i
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		for i++; i < len(data) && isDigit(data[i]); i++ {
		}
	default:
		return 0, false, syntaxError("invalid number", start)
	}
	if i < len(data) && data[i] == '.' {
		float = true
		if i++; i >= len(data) || !isDigit(data[i]) {
			return 0, false, syntaxError("invalid number", start)
		}
		for ; i < len(data) && isDigit(data[i]); i++ {
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		float = true
		if i++; i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return 0, false, syntaxError("invalid number", start)
		}
		for ; i < len(data) && isDigit(data[i]); i++ {
		}
	}
	return i, float, nil
}

// literalAt returns the literal (true, false, null, NaN, Infinity or
// -Infinity) at data[i], or "".
func literalAt(data []byte, i int) string {
	for _, lit := range [...]string{"true", "false", "null", "NaN", "Infinity", "-Infinity"} {
		if bytes.HasPrefix(data[i:], []byte(lit)) {
			return lit
		}
	}
	return ""
}

// Kinds of pyNode.
const (
	nodeObject    = '{'
	nodeArray     = '['
	nodeString    = '"'
	nodeNumber    = '0'
	nodeNonFinite = 'N' // NaN, Infinity, -Infinity
	nodeTrue      = 't'
	nodeFalse     = 'f'
	nodeNull      = 'n'
)

// A pyNode is a value of a parsed document.
type pyNode struct {
	kind       byte
	start, end int  // the value's bytes in the document
	float      bool // a number with a fraction or exponent, or a special float
	nonFinite  bool // the value is or holds NaN or an infinity
	// kids are the elements of an array, or the keys and values of an
	// object's members in turn: key, value, key, value...
	kids []pyNode
}

// parsePy parses data, one value of Python's JSON with optional whitespace
// around it.
func parsePy(data []byte) (pyNode, error) {
	p := pyParser{data: data}
	n, err := p.value(0)
	if err != nil {
		return pyNode{}, err
	}
	if p.i = skipSpace(data, p.i); p.i < len(data) {
		return pyNode{}, syntaxError("invalid character after top-level value", p.i)
	}
	return n, nil
}

type pyParser struct {
	data []byte
	i    int
}

// value parses the value at p.i, after optional whitespace.
func (p *pyParser) value(depth int) (pyNode, error) {
	data := p.data
	p.i = skipSpace(data, p.i)
	if p.i >= len(data) {
		return pyNode{}, syntaxError("unexpected end of JSON input", p.i)
	}
	n := pyNode{kind: data[p.i], start: p.i}
	var err error
	switch c := data[p.i]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return pyNode{}, syntaxError("exceeded max depth", p.i)
		}
		err = p.container(&n, depth+1)
	case c == '"':
		p.i, err = scanString(data, p.i)
	case c == '-' || isDigit(c):
		if lit := literalAt(data, p.i); lit != "" {
			n.kind, n.float, n.nonFinite = nodeNonFinite, true, true
			p.i += len(lit)
			break
		}
		n.kind = nodeNumber
		p.i, n.float, err = scanNumber(data, p.i)
	default:
		lit := literalAt(data, p.i)
		switch lit {
		case "":
			return pyNode{}, syntaxError("invalid character looking for beginning of value", p.i)
		case "NaN", "Infinity":
			n.kind, n.float, n.nonFinite = nodeNonFinite, true, true
		}
		p.i += len(lit)
	}
	if err != nil {
		return pyNode{}, err
	}
	n.end = p.i
	return n, nil
}

// container parses the array or object at p.i into n.
func (p *pyParser) container(n *pyNode, depth int) error {
	data := p.data
	closing := byte(']')
	if n.kind == nodeObject {
		closing = '}'
	}
	p.i++
	if p.i = skipSpace(data, p.i); p.i < len(data) && data[p.i] == closing {
		p.i++
		return nil
	}
	for {
		if n.kind == nodeObject {
			p.i = skipSpace(data, p.i)
			if p.i >= len(data) || data[p.i] != '"' {
				return syntaxError("looking for beginning of object key string", p.i)
			}
			key := pyNode{kind: nodeString, start: p.i}
			end, err := scanString(data, p.i)
			if err != nil {
				return err
			}
			key.end, p.i = end, end
			n.kids = append(n.kids, key)
			if p.i = skipSpace(data, p.i); p.i >= len(data) || data[p.i] != ':' {
				return syntaxError("after object key", p.i)
			}
			p.i++
		}
		kid, err := p.value(depth)
		if err != nil {
			return err
		}
		n.nonFinite = n.nonFinite || kid.nonFinite
		n.kids = append(n.kids, kid)
		p.i = skipSpace(data, p.i)
		switch {
		case p.i < len(data) && data[p.i] == ',':
			p.i++
		case p.i < len(data) && data[p.i] == closing:
			p.i++
			return nil
		default:
			return syntaxError("after array element or object member", p.i)
		}
	}
}

// firstNonFinite returns the first special float in n.
func firstNonFinite(n *pyNode) *pyNode {
	if n.kind == nodeNonFinite {
		return n
	}
	for i := range n.kids {
		if n.kids[i].nonFinite {
			return firstNonFinite(&n.kids[i])
		}
	}
	return nil
}

// appendPyCompact appends the JSON value src (the output of a MarshalJSON
// method) to dst in Python's style: without whitespace but for the
// separators ", " and ": ", strings with their escapes as they are and
// every other byte outside printable ASCII escaped, numbers and literals as
// they are. src must be Python's JSON; its special floats are refused when
// allowNaN is false (a *NonFiniteError).
func appendPyCompact(dst, src []byte, allowNaN bool) ([]byte, error) {
	n, err := parsePy(src)
	if err != nil {
		return nil, err
	}
	if !allowNaN && n.nonFinite {
		bad := firstNonFinite(&n)
		return nil, &NonFiniteError{Value: string(src[bad.start:bad.end]), Offset: -1}
	}
	return appendNode(dst, src, &n), nil
}

func appendNode(dst, src []byte, n *pyNode) []byte {
	switch n.kind {
	case nodeString:
		return appendPyRawString(dst, src[n.start:n.end])
	case nodeObject, nodeArray:
		dst = append(dst, n.kind)
		for i := range n.kids {
			switch {
			case i == 0:
			case n.kind == nodeObject && i%2 == 1:
				dst = append(dst, ':', ' ')
			default:
				dst = append(dst, ',', ' ')
			}
			dst = appendNode(dst, src, &n.kids[i])
		}
		if n.kind == nodeObject {
			return append(dst, '}')
		}
		return append(dst, ']')
	}
	return append(dst, src[n.start:n.end]...)
}

// sameJSON reports whether a and b are documents of Python's JSON that
// hold the same value, as json.loads reads them: objects as unordered
// collections of members (the last of a repeated key counts), strings by
// the characters they hold whatever their escapes, integers by value, and
// floats by value with NaN equal to NaN and -0.0 unequal to 0.0. An integer
// never equals a float (1 and 1.0 differ), nor a boolean a number. It is
// false if either is not Python's JSON.
func sameJSON(a, b []byte) bool {
	na, err := parsePy(a)
	if err != nil {
		return false
	}
	nb, err := parsePy(b)
	if err != nil {
		return false
	}
	return sameNode(a, b, &na, &nb)
}

func sameNode(a, b []byte, na, nb *pyNode) bool {
	if na.kind == nodeNonFinite || nb.kind == nodeNonFinite {
		return na.float && nb.float && sameFloat(a[na.start:na.end], b[nb.start:nb.end])
	}
	if na.kind != nb.kind {
		return false
	}
	ra, rb := a[na.start:na.end], b[nb.start:nb.end]
	switch na.kind {
	case nodeString:
		return bytes.Equal(ra, rb) || bytes.Equal(unquote(ra), unquote(rb))
	case nodeNumber:
		if na.float != nb.float {
			return false
		}
		if na.float {
			return sameFloat(ra, rb)
		}
		return bytes.Equal(ra, rb) || isZeroInt(ra) && isZeroInt(rb)
	case nodeArray:
		if len(na.kids) != len(nb.kids) {
			return false
		}
		for i := range na.kids {
			if !sameNode(a, b, &na.kids[i], &nb.kids[i]) {
				return false
			}
		}
		return true
	case nodeObject:
		ma, mb := members(a, na), members(b, nb)
		if len(ma) != len(mb) {
			return false
		}
		for k, va := range ma {
			vb, ok := mb[k]
			if !ok || !sameNode(a, b, va, vb) {
				return false
			}
		}
		return true
	}
	return true // true, false, null
}

// members returns the members of the object n of doc by key, the last
// value of a repeated key.
func members(doc []byte, n *pyNode) map[string]*pyNode {
	m := make(map[string]*pyNode, len(n.kids)/2)
	for i := 0; i+1 < len(n.kids); i += 2 {
		k := &n.kids[i]
		m[string(unquote(doc[k.start:k.end]))] = &n.kids[i+1]
	}
	return m
}

// isZeroInt reports whether the integer text is 0 or -0, which Python reads
// alike.
func isZeroInt(s []byte) bool { return string(s) == "0" || string(s) == "-0" }

// sameFloat reports whether two numbers or special floats are the same
// float64, NaN equal to NaN. A number too large for a float64 is an
// infinity, as Python's float reads it.
func sameFloat(a, b []byte) bool {
	fa, fb := parseFloat(a), parseFloat(b)
	if math.IsNaN(fa) || math.IsNaN(fb) {
		return math.IsNaN(fa) && math.IsNaN(fb)
	}
	return math.Float64bits(fa) == math.Float64bits(fb)
}

// parseFloat parses a JSON number or special float.
func parseFloat(s []byte) float64 {
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return math.NaN() // not reached for the text of a parsed number
	}
	return f
}

// unquote returns the characters of the JSON string raw (with its quotes),
// as UTF-8; an escaped lone surrogate, which Python keeps, is encoded as
// its own three bytes (WTF-8), so that two different ones stay different.
func unquote(raw []byte) []byte {
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) && i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
				if pair := utf16.DecodeRune(r, hex4(s[i+2:])); pair != utf8.RuneError {
					out = utf8.AppendRune(out, pair)
					i += 6
					continue
				}
			}
			if utf16.IsSurrogate(r) {
				out = append(out, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
			} else {
				out = utf8.AppendRune(out, r)
			}
			continue
		default: // " \ /
			out = append(out, s[i+1])
		}
		i += 2
	}
	return out
}

func hex4(s []byte) rune {
	return unhex(s[0])<<12 | unhex(s[1])<<8 | unhex(s[2])<<4 | unhex(s[3])
}
