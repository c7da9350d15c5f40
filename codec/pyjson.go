package codec

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON encoder: encoding/json's rules for which values are written and
// how (struct fields, tags, omitempty, MarshalJSON and MarshalText, map
// keys sorted, []byte as base64, nil as null), in the text Python's
// json.dumps writes with its default settings: separators ", " and ": ",
// every character outside printable ASCII escaped (ensure_ascii), floats as
// float.__repr__ writes them (2.0, 1e+16, 1e-05), and NaN, Infinity and
// -Infinity for the special floats (allow_nan).

// An encodeState holds the output of one encoding.
type encodeState struct {
	buf      []byte
	allowNaN bool

	// ptrLevel counts the pointers, maps and slices being encoded; past
	// startDetectingCycles the values met are kept in ptrSeen, to report a
	// cycle rather than overflow the stack, as encoding/json does.
	ptrLevel uint
	ptrSeen  map[visit]struct{}
}

const startDetectingCycles = 1000

// maxPooled is the largest buffer kept for reuse; a larger one is left to the
// garbage collector so that one huge value does not pin its memory.
const maxPooled = 64 << 10

var encodeStates = sync.Pool{New: func() any { return new(encodeState) }}

// marshalPython returns the JSON of v as Python's json.dumps writes it. With
// allowNaN false a NaN or an infinity is a *NonFiniteError.
func marshalPython(v reflect.Value, allowNaN bool) ([]byte, error) {
	e := encodeStates.Get().(*encodeState)
	e.buf, e.allowNaN, e.ptrLevel = e.buf[:0], allowNaN, 0
	err := typeEncoder(v.Type())(e, v, false)
	var out []byte
	if err == nil {
		out = bytes.Clone(e.buf)
	}
	if cap(e.buf) <= maxPooled {
		clear(e.ptrSeen)
		encodeStates.Put(e)
	}
	return out, err
}

// An encoderFunc appends the JSON of v to e.buf. quoted is the string
// option of the struct field v is in.
type encoderFunc func(e *encodeState, v reflect.Value, quoted bool) error

var encoderCache sync.Map // reflect.Type → encoderFunc

// typeEncoder returns the encoder of t.
func typeEncoder(t reflect.Type) encoderFunc {
	if fi, ok := encoderCache.Load(t); ok {
		return fi.(encoderFunc)
	}
	// A recursive type meets itself while its encoder is being built: it
	// finds this indirection in the cache.
	indirect := sync.OnceValue(func() encoderFunc { return newTypeEncoder(t, true) })
	fi, loaded := encoderCache.LoadOrStore(t, encoderFunc(func(e *encodeState, v reflect.Value, quoted bool) error {
		return indirect()(e, v, quoted)
	}))
	if loaded {
		return fi.(encoderFunc)
	}
	f := indirect()
	encoderCache.Store(t, f)
	return f
}

var numberType = reflect.TypeFor[json.Number]()

// newTypeEncoder returns the encoder of t. The encoder takes the address of
// an addressable value to call a method with a pointer receiver only when
// allowAddr is true, as encoding/json does.
func newTypeEncoder(t reflect.Type, allowAddr bool) encoderFunc {
	if t.Kind() != reflect.Pointer && allowAddr && reflect.PointerTo(t).Implements(jsonMarshaler) {
		return condAddrEncoder(addrMarshalerEncoder, newTypeEncoder(t, false))
	}
	if t.Implements(jsonMarshaler) {
		return marshalerEncoder
	}
	if t.Kind() != reflect.Pointer && allowAddr && reflect.PointerTo(t).Implements(textMarshaler) {
		return condAddrEncoder(addrTextMarshalerEncoder, newTypeEncoder(t, false))
	}
	if t.Implements(textMarshaler) {
		return textMarshalerEncoder
	}
	switch t.Kind() {
	case reflect.Bool:
		return boolEncoder
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intEncoder
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintEncoder
	case reflect.Float32:
		return float32Encoder
	case reflect.Float64:
		return float64Encoder
	case reflect.String:
		if t == numberType {
			return numberEncoder
		}
		return stringEncoder
	case reflect.Interface:
		return interfaceEncoder
	case reflect.Struct:
		return structEncoder(cachedTypeFields(t))
	case reflect.Map:
		return newMapEncoder(t)
	case reflect.Slice:
		return newSliceEncoder(t)
	case reflect.Array:
		return arrayEncoder(typeEncoder(t.Elem()))
	case reflect.Pointer:
		return ptrEncoder(typeEncoder(t.Elem()))
	}
	return unsupportedTypeEncoder
}

func condAddrEncoder(canAddr, other encoderFunc) encoderFunc {
	return func(e *encodeState, v reflect.Value, quoted bool) error {
		if v.CanAddr() {
			return canAddr(e, v, quoted)
		}
		return other(e, v, quoted)
	}
}

// The encoders of a type with a MarshalJSON or MarshalText method, on its
// value or, when the value is addressable, on its pointer.
var (
	marshalerEncoder         = methodEncoder((*encodeState).marshaled)
	addrMarshalerEncoder     = addrMethodEncoder((*encodeState).marshaled)
	textMarshalerEncoder     = methodEncoder((*encodeState).text)
	addrTextMarshalerEncoder = addrMethodEncoder((*encodeState).text)
)

// methodEncoder returns the encoder of a type that implements M, which
// appends with write what its method returns; a nil pointer, or a value
// that does not implement M, is null.
func methodEncoder[M any](write func(*encodeState, reflect.Type, M) error) encoderFunc {
	return func(e *encodeState, v reflect.Value, _ bool) error {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		m, ok := reflect.TypeAssert[M](v)
		if !ok {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return write(e, v.Type(), m)
	}
}

// addrMethodEncoder is methodEncoder for an addressable value whose
// pointer implements M.
func addrMethodEncoder[M any](write func(*encodeState, reflect.Type, M) error) encoderFunc {
	return func(e *encodeState, v reflect.Value, _ bool) error {
		m, _ := reflect.TypeAssert[M](v.Addr())
		return write(e, v.Type(), m)
	}
}

// marshaled appends the output of m's MarshalJSON, checked and rewritten in
// Python's style.
func (e *encodeState) marshaled(t reflect.Type, m json.Marshaler) error {
	b, err := m.MarshalJSON()
	if err == nil {
		var out []byte
		if out, err = appendPyCompact(e.buf, b, e.allowNaN); err == nil {
			e.buf = out
			return nil
		}
	}
	if _, ok := err.(*NonFiniteError); ok {
		return err
	}
	return &json.MarshalerError{Type: t, Err: err}
}

// text appends the output of m's MarshalText as a JSON string.
func (e *encodeState) text(t reflect.Type, m encoding.TextMarshaler) error {
	b, err := m.MarshalText()
	if err != nil {
		return &json.MarshalerError{Type: t, Err: err}
	}
	e.buf = appendPyString(e.buf, b)
	return nil
}

func boolEncoder(e *encodeState, v reflect.Value, quoted bool) error {
	e.buf = mayQuote(e.buf, quoted)
	e.buf = strconv.AppendBool(e.buf, v.Bool())
	e.buf = mayQuote(e.buf, quoted)
	return nil
}

func intEncoder(e *encodeState, v reflect.Value, quoted bool) error {
	e.buf = mayQuote(e.buf, quoted)
	e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	e.buf = mayQuote(e.buf, quoted)
	return nil
}

func uintEncoder(e *encodeState, v reflect.Value, quoted bool) error {
	e.buf = mayQuote(e.buf, quoted)
	e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	e.buf = mayQuote(e.buf, quoted)
	return nil
}

type floatEncoder int // number of bits

var (
	float32Encoder = floatEncoder(32).encode
	float64Encoder = floatEncoder(64).encode
)

// encode writes a float as Python's json.dumps does: its repr, or NaN,
// Infinity and -Infinity.
func (bits floatEncoder) encode(e *encodeState, v reflect.Value, quoted bool) error {
	f := v.Float()
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if quoted {
			// encoding/json could not read "NaN" back from a quoted field.
			return &json.UnsupportedValueError{Value: v, Str: strconv.FormatFloat(f, 'g', -1, int(bits))}
		}
		if !e.allowNaN {
			return &NonFiniteError{Value: jsonNonFinite(f), Offset: -1}
		}
		e.buf = append(e.buf, jsonNonFinite(f)...)
		return nil
	}
	e.buf = mayQuote(e.buf, quoted)
	e.buf = appendPyFloat(e.buf, f, int(bits))
	e.buf = mayQuote(e.buf, quoted)
	return nil
}

// jsonNonFinite returns the text json.dumps writes for a NaN or infinity.
func jsonNonFinite(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "Infinity"
	}
	return "-Infinity"
}

// numberEncoder writes a json.Number verbatim: the exact text it was read
// from, or NaN, Infinity and -Infinity as Python writes them.
func numberEncoder(e *encodeState, v reflect.Value, quoted bool) error {
	s := v.String()
	if s == "" {
		s = "0" // the zero Number, as encoding/json writes it
	}
	if isNonFiniteToken(s) {
		if quoted {
			return fmt.Errorf("json: invalid number literal %q", s)
		}
		if !e.allowNaN {
			return &NonFiniteError{Value: s, Offset: -1}
		}
	} else if !isValidNumber(s) {
		return fmt.Errorf("json: invalid number literal %q", s)
	}
	e.buf = mayQuote(e.buf, quoted)
	e.buf = append(e.buf, s...)
	e.buf = mayQuote(e.buf, quoted)
	return nil
}

// isNonFiniteToken reports whether s is one of the special floats of
// Python's JSON.
func isNonFiniteToken[S string | []byte](s S) bool {
	switch string(s) {
	case "NaN", "Infinity", "-Infinity":
		return true
	}
	return false
}

// isValidNumber reports whether s is a JSON number.
func isValidNumber(s string) bool {
	end, _, err := scanNumber([]byte(s), 0)
	return err == nil && end == len(s)
}

func stringEncoder(e *encodeState, v reflect.Value, quoted bool) error {
	if quoted {
		e.buf = appendPyString(e.buf, appendPyString(nil, v.String()))
		return nil
	}
	e.buf = appendPyString(e.buf, v.String())
	return nil
}

func interfaceEncoder(e *encodeState, v reflect.Value, quoted bool) error {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	return typeEncoder(v.Elem().Type())(e, v.Elem(), quoted)
}

func unsupportedTypeEncoder(_ *encodeState, v reflect.Value, _ bool) error {
	return &json.UnsupportedTypeError{Type: v.Type()}
}

func structEncoder(fields *structFields) encoderFunc {
	return func(e *encodeState, v reflect.Value, _ bool) error {
		e.buf = append(e.buf, '{')
		first := true
	fieldLoop:
		for i := range fields.list {
			f := &fields.list[i]
			fv := v
			for _, i := range f.index {
				if fv.Kind() == reflect.Pointer {
					if fv.IsNil() {
						continue fieldLoop
					}
					fv = fv.Elem()
				}
				fv = fv.Field(i)
			}
			if f.omitEmpty && isEmptyValue(fv) ||
				f.omitZero && (f.isZero == nil && fv.IsZero() || f.isZero != nil && f.isZero(fv)) {
				continue
			}
			if !first {
				e.buf = append(e.buf, ',', ' ')
			}
			first = false
			e.buf = append(e.buf, f.key...)
			if err := f.enc(e, fv, f.quoted); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
		return nil
	}
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// A visit identifies a pointer, map or slice being encoded, for the
// detection of cycles.
type visit struct {
	ptr any // an unsafe.Pointer
	typ reflect.Type
	len int // of a slice
}

// enter counts one more level of pointers, maps and slices, and once the
// levels are many, reports a cycle through v. The caller calls leave with
// the visit when done with v.
func (e *encodeState) enter(v reflect.Value, n int) (visit, error) {
	if e.ptrLevel++; e.ptrLevel <= startDetectingCycles {
		return visit{}, nil
	}
	k := visit{v.UnsafePointer(), v.Type(), n}
	if _, ok := e.ptrSeen[k]; ok {
		return k, &json.UnsupportedValueError{Value: v, Str: "encountered a cycle via " + v.Type().String()}
	}
	if e.ptrSeen == nil {
		e.ptrSeen = make(map[visit]struct{})
	}
	e.ptrSeen[k] = struct{}{}
	return k, nil
}

// leave undoes enter.
func (e *encodeState) leave(k visit) {
	if k.typ != nil {
		delete(e.ptrSeen, k)
	}
	e.ptrLevel--
}

// A keyed is a map entry with its key as JSON writes it.
type keyed struct {
	key string
	v   reflect.Value
}

func newMapEncoder(t reflect.Type) encoderFunc {
	switch t.Key().Kind() {
	case reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		if !t.Key().Implements(textMarshaler) {
			return unsupportedTypeEncoder
		}
	}
	elem := typeEncoder(t.Elem())
	return func(e *encodeState, v reflect.Value, _ bool) error {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		k, err := e.enter(v, 0)
		if err != nil {
			return err
		}
		defer e.leave(k)
		entries := make([]keyed, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			name, err := resolveKeyName(it.Key())
			if err != nil {
				return fmt.Errorf("json: encoding error for type %q: %q", v.Type().String(), err.Error())
			}
			entries = append(entries, keyed{name, it.Value()})
		}
		slices.SortFunc(entries, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
		e.buf = append(e.buf, '{')
		for i, kv := range entries {
			if i > 0 {
				e.buf = append(e.buf, ',', ' ')
			}
			e.buf = appendPyString(e.buf, kv.key)
			e.buf = append(e.buf, ':', ' ')
			if err := elem(e, kv.v, false); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
		return nil
	}
}

// resolveKeyName returns a map key as JSON writes it.
func resolveKeyName(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := reflect.TypeAssert[encoding.TextMarshaler](k); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		buf, err := tm.MarshalText()
		return string(buf), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("unexpected map key type %s", k.Type())
}

func newSliceEncoder(t reflect.Type) encoderFunc {
	// Byte slices are base64 strings, unless their elements marshal
	// themselves; byte arrays are not.
	if t.Elem().Kind() == reflect.Uint8 {
		p := reflect.PointerTo(t.Elem())
		if !p.Implements(jsonMarshaler) && !p.Implements(textMarshaler) {
			return byteSliceEncoder
		}
	}
	array := arrayEncoder(typeEncoder(t.Elem()))
	return func(e *encodeState, v reflect.Value, quoted bool) error {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		// A slice is told apart by its first element and its length.
		k, err := e.enter(v, v.Len())
		if err != nil {
			return err
		}
		defer e.leave(k)
		return array(e, v, quoted)
	}
}

func byteSliceEncoder(e *encodeState, v reflect.Value, _ bool) error {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	e.buf = append(e.buf, '"')
	e.buf = base64.StdEncoding.AppendEncode(e.buf, v.Bytes())
	e.buf = append(e.buf, '"')
	return nil
}

func arrayEncoder(elem encoderFunc) encoderFunc {
	return func(e *encodeState, v reflect.Value, _ bool) error {
		e.buf = append(e.buf, '[')
		for i := range v.Len() {
			if i > 0 {
				e.buf = append(e.buf, ',', ' ')
			}
			if err := elem(e, v.Index(i), false); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
		return nil
	}
}

func ptrEncoder(elem encoderFunc) encoderFunc {
	return func(e *encodeState, v reflect.Value, quoted bool) error {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		k, err := e.enter(v, 0)
		if err != nil {
			return err
		}
		defer e.leave(k)
		return elem(e, v.Elem(), quoted)
	}
}

func mayQuote(b []byte, quoted bool) []byte {
	if quoted {
		b = append(b, '"')
	}
	return b
}

// appendPyString appends s as a JSON string in Python's style: printable
// ASCII as it is but for the quote and the backslash, the usual short
// escapes (\" \\ \n \r \t \b \f), and every other character as \uXXXX in
// lowercase hex (a surrogate pair beyond the BMP); DEL is \u007f, and
// invalid UTF-8 is \ufffd, byte by byte, as encoding/json replaces it.
func appendPyString[S []byte | string](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plainInString[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = appendEscape(dst, rune(c))
			}
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = appendEscape(dst, r)
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendPyRawString appends the JSON string raw (with its quotes, as
// scanString found it) in Python's style: its escapes as they are, and
// every raw byte outside printable ASCII escaped as appendPyString does.
func appendPyRawString(dst, raw []byte) []byte {
	start := 0
	for i := 0; i < len(raw); {
		c := raw[i]
		if c < utf8.RuneSelf && c != 0x7f {
			if c == '\\' {
				i += 2
			} else {
				i++
			}
			continue
		}
		dst = append(dst, raw[start:i]...)
		r, size := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = appendEscape(dst, r)
		}
		i += size
		start = i
	}
	return append(dst, raw[start:]...)
}

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
// redis-py stores a float, and json.dumps writes one inside JSON): the
// shortest decimal that reads back as f, with at least one digit after the
// point ("100.0"), in exponent form when the decimal exponent is below -4
// or at least 16 ("1e-05", "1e+16"), and "nan", "inf" and "-inf" for the
// special values. bits is 32 for a float32, whose shortest decimal is used.
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
