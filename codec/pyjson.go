package codec

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// An encoder is a json.Encoder writing to its own buffer, reused through
// encoders.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
	out []byte // the Python-style rewrite of buf
}

// maxPooled is the largest buffer kept for reuse; a larger one is left to the
// garbage collector so that one huge value does not pin its memory.
const maxPooled = 64 << 10

var encoders = sync.Pool{New: func() any {
	e := new(encoder)
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// marshalPython returns the JSON encoding of v as Python's json.dumps writes
// it with its default settings: separators ", " and ": ", every character
// outside printable ASCII escaped as \uXXXX (ensure_ascii), and no HTML
// escaping. The rest is encoding/json's: struct fields in declaration order,
// map keys sorted, floats in their shortest form (1.0 as 1), and an error
// for a float NaN or infinity.
func marshalPython(v any) ([]byte, error) {
	e := encoders.Get().(*encoder)
	e.buf.Reset()
	err := e.enc.Encode(v)
	var out []byte
	if err == nil {
		b := e.buf.Bytes()
		e.out = appendPython(e.out[:0], b[:len(b)-1]) // drop Encode's newline
		out = bytes.Clone(e.out)
	}
	if e.buf.Cap() <= maxPooled && cap(e.out) <= maxPooled {
		encoders.Put(e)
	}
	return out, err
}

// appendPython appends to dst the compact JSON src (as encoding/json writes
// it) rewritten in the style of Python's json.dumps: a space after every ','
// and ':' between tokens, and every byte outside printable ASCII inside
// strings escaped: DEL as \u007f, a non-ASCII character as \uXXXX in
// lowercase hex (a surrogate pair beyond the BMP), and invalid UTF-8 as
// \ufffd. encoding/json has already escaped quotes, backslashes and control
// characters the way Python does.
func appendPython(dst, src []byte) []byte {
	start := 0
	for i := 0; i < len(src); {
		switch src[i] {
		case ',', ':':
			dst = append(dst, src[start:i]...)
			dst = append(dst, src[i], ' ')
			i++
			start = i
		case '"':
			for i++; i < len(src); {
				for i < len(src) && plainInString[src[i]] {
					i++
				}
				if i == len(src) {
					break
				}
				c := src[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' {
					i += 2
					continue
				}
				// DEL or the start of a UTF-8 sequence.
				dst = append(dst, src[start:i]...)
				r, size := utf8.DecodeRune(src[i:])
				dst = appendEscape(dst, r)
				i += size
				start = i
			}
		default:
			for i++; i < len(src) && !tokenEnd[src[i]]; i++ {
			}
		}
	}
	return append(dst, src[start:]...)
}

// tokenEnd marks the bytes that appendPython acts on outside strings.
var tokenEnd = [256]bool{',': true, ':': true, '"': true}

// plainInString marks the bytes copied as they are inside a JSON string:
// printable ASCII other than the quote and the backslash.
var plainInString = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf-1; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendEscape appends r as a JSON \u escape, or two for a character beyond
// the BMP.
func appendEscape(dst []byte, r rune) []byte {
	if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
		return appendEscape(appendEscape(dst, r1), r2)
	}
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// appendPyFloat appends f as Python's repr(float) writes it (and so as
// redis-py stores a float): the shortest decimal that reads back as f, with
// at least one digit after the point ("100.0"), in exponent form when the
// decimal exponent is below -4 or at least 16 ("1e-05", "1e+16"), and "nan",
// "inf" and "-inf" for the special values. bits is 32 for a float32, whose
// shortest decimal is used.
func appendPyFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, bits) // [-]d[.ddd]e±dd
	mark := bytes.IndexByte(e, 'e')
	exp := 0
	for _, c := range e[mark+2:] {
		exp = exp*10 + int(c-'0')
	}
	if e[mark+1] == '-' {
		exp = -exp
	}
	if exp < -4 || exp >= 16 {
		return append(dst, e...)
	}
	mant := e[:mark]
	if mant[0] == '-' {
		dst = append(dst, '-')
		mant = mant[1:]
	}
	// The significant digits, without the point.
	var dbuf [24]byte
	var digits []byte
	if len(mant) > 1 {
		digits = append(append(dbuf[:0], mant[0]), mant[2:]...)
	} else {
		digits = mant
	}
	point := exp + 1 // digits before the decimal point
	switch {
	case point <= 0:
		dst = append(dst, '0', '.')
		for range -point {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	case point >= len(digits):
		dst = append(dst, digits...)
		for range point - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, '.', '0')
	default:
		dst = append(dst, digits[:point]...)
		dst = append(dst, '.')
		return append(dst, digits[point:]...)
	}
}
