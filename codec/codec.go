package codec

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"sync"
)

// The encodings' common part: the Codec interface, the JSON codec of the
// Python original's rules (its encoder is in pyjson.go, its decoder in
// pydecode.go), Comparer and Validator, and the errors of encoding and
// decoding. The typed store (store.go) uses them; they do not use it.

// A Codec turns values of type T into bytes and back. Its methods must be
// safe for concurrent use.
type Codec[T any] interface {
	// Encode returns the encoding of v, in a new slice the caller owns.
	Encode(v T) ([]byte, error)
	// Decode returns the value encoded in data. It does not keep data.
	// Errors for data that is well-formed but not a valid T should match
	// [ErrValidation].
	Decode(data []byte) (T, error)
}

// JSONOptions configure the codec returned by [JSON]. The zero value gives
// the defaults.
type JSONOptions struct {
	// Strict makes Decode reject JSON objects with a field that the target
	// struct does not have (the failure matches ErrValidation), as a
	// Pydantic model with extra="forbid" does. Off by default: unknown
	// fields are ignored, as Pydantic does by default.
	Strict bool

	// DisallowNaN makes Encode and Decode refuse NaN and the infinities
	// with a [*NonFiniteError], as JSON (RFC 8259) and Python's
	// json.dumps(..., allow_nan=False) do: inside JSON, where Python
	// writes NaN, Infinity and -Infinity, and in a float stored on its
	// own, where it writes nan, inf and -inf. Off by default: they are
	// written and read as Python's json.dumps and json.loads do.
	DisallowNaN bool
}

// JSON returns the codec of the Python original's encoding rules, which a
// Python service using cledar.redis reads and writes alike (see the package
// documentation): strings and byte slices verbatim, numbers as decimal text,
// booleans as true or false, types with a MarshalText method as their text,
// and everything else (structs, maps, slices, arrays) as JSON in the form
// Python's json.dumps writes. A number read into an interface (such as a
// value of a map[string]any) is a json.Number holding the number's exact
// text, and is written back as it is. Encode calls a Validate method of T
// before it returns the encoding, and Decode after decoding. opts may be
// nil.
//
// The codec implements [Comparer]: two encodings of JSON are the same value
// when they hold the same JSON, whatever their spacing and key order.
func JSON[T any](opts *JSONOptions) Codec[T] {
	t := reflect.TypeFor[T]()
	c := &jsonCodec[T]{
		plan:     planOf(t),
		validate: t.Kind() == reflect.Interface || t.Implements(validatorType) || reflect.PointerTo(t).Implements(validatorType),
	}
	c.dec.useNumber = holdsInterface(t, map[reflect.Type]bool{})
	if opts != nil {
		c.dec.strict = opts.Strict
		c.dec.noNaN = opts.DisallowNaN
	}
	return c
}

type jsonCodec[T any] struct {
	plan     *typePlan
	dec      decodeOptions
	validate bool // T or *T may implement Validator
}

// Encode implements [Codec].
func (c *jsonCodec[T]) Encode(v T) ([]byte, error) {
	// Fast paths for the most common scalar types, without reflection; the
	// rest is in another function, so that v does not escape here.
	switch p := any(&v).(type) {
	case *string:
		return []byte(*p), nil
	case *[]byte:
		if *p == nil {
			return nil, errNil
		}
		return bytes.Clone(*p), nil
	}
	return c.encode(v)
}

func (c *jsonCodec[T]) encode(v T) ([]byte, error) {
	data, err := c.plan.encode(reflect.ValueOf(&v).Elem(), !c.dec.noNaN)
	if err == nil && c.validate {
		err = validate(&v)
	}
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Decode implements [Codec].
func (c *jsonCodec[T]) Decode(data []byte) (T, error) {
	var v T
	switch p := any(&v).(type) {
	case *string:
		*p = string(data)
		return v, nil
	case *[]byte:
		*p = cloneBytes(data)
		return v, nil
	}
	return c.decode(data)
}

func (c *jsonCodec[T]) decode(data []byte) (T, error) {
	p := new(T)
	var err error
	if err = c.plan.decode(reflect.ValueOf(p).Elem(), data, &c.dec); err == nil && c.validate {
		err = validate(p)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return *p, nil
}

// decodeUnvalidated is Decode without the call of a Validate method, for a
// T that is not a []byte: a Store that keeps decoded values
// (store_decoded.go) validates each copy it returns instead.
func (c *jsonCodec[T]) decodeUnvalidated(data []byte) (T, error) {
	var v T
	if p, ok := any(&v).(*string); ok {
		*p = string(data)
		return v, nil
	}
	p := new(T)
	if err := c.plan.decode(reflect.ValueOf(p).Elem(), data, &c.dec); err != nil {
		return v, err
	}
	return *p, nil
}

// Equal implements [Comparer]. Encodings of JSON (structs, maps, slices,
// arrays, interfaces, types with a MarshalJSON method) are the same value
// when they are the same JSON document as Python's json.loads reads it:
// objects compare as unordered collections of members (the last of a
// repeated key counts), strings by their characters whatever the escapes,
// integers and floats by exact value, NaN equal to NaN. An integer never
// equals a float: 1 and 1.0 differ, because Python reads one as an int and
// the other as a float, and so do -0.0 and 0.0, which read back
// differently. Any other encoding (a string, a number or a text stored on
// its own) is the same value only as the same bytes.
func (c *jsonCodec[T]) Equal(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	p := c.plan
	for p.enc == planPointer {
		p = p.elem
	}
	if p.enc != planJSON && p.enc != planInterface {
		return false
	}
	return sameJSON(a, b)
}

// A Comparer is a [Codec] that can tell whether two of its encodings hold
// the same value although their bytes differ, such as two JSON documents
// with their keys in another order. configstore's Update asks it, when the
// codec implements it, whether a value is already the latest version.
type Comparer interface {
	// Equal reports whether a and b, two encodings of values of the
	// codec's type, hold the same value. It must be safe for concurrent
	// use.
	Equal(a, b []byte) bool
}

// A Validator checks a value. A type T (or *T) with a Validate method is
// validated by [JSON]'s Decode right after decoding, and so by every read
// of a [Store] with the default codec; an error fails the read with a
// [*DeserializationError] that says "Validation failed" (a failed value in a
// bulk read). [JSON]'s Encode validates too, before a value is written: an
// error fails [Store.Set] and [Store.SetWithTTL] with a
// [*SerializationError] that says "Validation failed", and nothing is
// written. It is the counterpart of a Pydantic model's validators. A custom
// Codec may call Validate too.
type Validator interface {
	Validate() error
}

// validate calls the Validate method of *v, or of v when T is a pointer or
// interface type holding one. v is asked first: *T has the methods of T
// too, and converting the pointer copies nothing, where converting *v would
// copy a struct T to the heap on every decode.
func validate[T any](v *T) error {
	var val Validator
	if x, ok := any(v).(Validator); ok {
		val = x
	} else if x, ok := any(*v).(Validator); ok {
		val = x
	}
	if val == nil {
		return nil
	}
	if err := val.Validate(); err != nil {
		return invalid(err)
	}
	return nil
}

// ErrValidation is matched (with [errors.Is]) by the errors of data that was
// well-formed but did not make a valid value of the target type: a JSON value
// of the wrong type or out of range, an unknown field under
// [JSONOptions.Strict], a name that is not a member of an [Enum], a JSON null,
// or a Validate method that failed. A [DeserializationError] whose cause
// matches it says "Validation failed"; any other decode failure says "Failed
// to decode JSON".
//
// A custom [Codec] marks such errors by wrapping ErrValidation, for example
// fmt.Errorf("%w: %w", codec.ErrValidation, err).
var ErrValidation = errors.New("codec: validation failed")

// validationError marks err as a validation failure without changing its text.
type validationError struct{ err error }

func (e *validationError) Error() string        { return e.err.Error() }
func (e *validationError) Unwrap() error        { return e.err }
func (e *validationError) Is(target error) bool { return target == ErrValidation }

// invalid marks err as a validation failure.
func invalid(err error) error { return &validationError{err} }

// A NonFiniteError reports a NaN or an infinity refused under
// [JSONOptions.DisallowNaN]: met in a value to encode (a
// [*SerializationError] wraps it), or in stored data (a
// [*DeserializationError] wraps it, saying "Failed to decode JSON", since
// such data is not JSON).
type NonFiniteError struct {
	// Value is the number as Python writes it: NaN, Infinity or -Infinity
	// inside JSON, nan, inf or -inf on its own (or the text read).
	Value string
	// Offset is the number's byte offset in the data read, or -1 when
	// encoding.
	Offset int64
}

// Error returns "codec: <Value> is not allowed (JSONOptions.DisallowNaN)",
// with the offset when reading.
func (e *NonFiniteError) Error() string {
	msg := "codec: " + e.Value + " is not allowed (JSONOptions.DisallowNaN)"
	if e.Offset >= 0 {
		msg += " at offset " + strconv.FormatInt(e.Offset, 10)
	}
	return msg
}

// A plan says how values of one type are encoded or decoded.
type plan uint8

const (
	planJSON        plan = iota // JSON in Python's style
	planText                    // MarshalText / UnmarshalText, verbatim
	planString                  // verbatim
	planBytes                   // verbatim
	planBool                    // true or false
	planInt                     // decimal
	planUint                    // decimal
	planFloat                   // Python's repr
	planPointer                 // the pointee's plan; nil is rejected
	planInterface               // the dynamic value's plan on encode; JSON on decode
	planUnsupported             // chan, func, complex, unsafe pointer
)

// A typePlan holds the plans of one type, and of its element for a pointer.
type typePlan struct {
	t        reflect.Type
	enc, dec plan
	elem     *typePlan // for planPointer
}

var (
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	validatorType   = reflect.TypeFor[Validator]()
)

// plans caches the plans of dynamic types met by planInterface.
var plans sync.Map // reflect.Type → *typePlan

// planOf returns the plans of t.
func planOf(t reflect.Type) *typePlan {
	if p, ok := plans.Load(t); ok {
		return p.(*typePlan)
	}
	p := &typePlan{t: t}
	switch {
	case t.Kind() == reflect.Pointer:
		p.enc, p.dec, p.elem = planPointer, planPointer, planOf(t.Elem())
	case t.Kind() == reflect.Interface:
		p.enc, p.dec = planInterface, planInterface
	default:
		p.enc = methodPlan(t, textMarshaler, jsonMarshaler)
		p.dec = methodPlan(t, textUnmarshaler, jsonUnmarshaler)
	}
	plans.Store(t, p)
	return p
}

// methodPlan returns the plan of a non-pointer, non-interface type t: text
// when t or *t implements text, JSON when it implements js, and otherwise
// the plan of its kind.
func methodPlan(t, text, js reflect.Type) plan {
	pt := reflect.PointerTo(t)
	switch {
	case t.Implements(text) || pt.Implements(text):
		return planText
	case t.Implements(js) || pt.Implements(js):
		return planJSON
	}
	switch t.Kind() {
	case reflect.String:
		return planString
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return planBytes
		}
		return planJSON
	case reflect.Bool:
		return planBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return planInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return planUint
	case reflect.Float32, reflect.Float64:
		return planFloat
	case reflect.Complex64, reflect.Complex128, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return planUnsupported
	}
	return planJSON // struct, map, array, slice
}

var errNil = errors.New("codec: a nil value cannot be stored")

// encode returns the encoding of v, an addressable value of p.t. A NaN or
// an infinity is refused unless allowNaN.
func (p *typePlan) encode(v reflect.Value, allowNaN bool) ([]byte, error) {
	switch p.enc {
	case planText:
		m, ok := reflect.TypeAssert[encoding.TextMarshaler](v)
		if !ok {
			m = v.Addr().Interface().(encoding.TextMarshaler)
		}
		return m.MarshalText()
	case planString:
		if !allowNaN && v.Type() == numberType && isNonFiniteToken(v.String()) {
			return nil, &NonFiniteError{Value: v.String(), Offset: -1}
		}
		return []byte(v.String()), nil
	case planBytes:
		if v.IsNil() {
			return nil, errNil
		}
		return bytes.Clone(v.Bytes()), nil
	case planBool:
		return strconv.AppendBool(nil, v.Bool()), nil
	case planInt:
		return strconv.AppendInt(nil, v.Int(), 10), nil
	case planUint:
		return strconv.AppendUint(nil, v.Uint(), 10), nil
	case planFloat:
		f := v.Float()
		if !allowNaN && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return nil, &NonFiniteError{Value: string(appendPyFloat(nil, f, 64)), Offset: -1}
		}
		return appendPyFloat(nil, f, v.Type().Bits()), nil
	case planPointer:
		if v.IsNil() {
			return nil, errNil
		}
		return p.elem.encode(v.Elem(), allowNaN)
	case planInterface:
		if v.IsNil() {
			return nil, errNil
		}
		// The dynamic value is not addressable: copy it, so that methods
		// with pointer receivers are found too.
		e := v.Elem()
		a := reflect.New(e.Type()).Elem()
		a.Set(e)
		return planOf(e.Type()).encode(a, allowNaN)
	case planUnsupported:
		return nil, fmt.Errorf("codec: a value of type %s cannot be stored", v.Type())
	}
	switch v.Kind() {
	case reflect.Map, reflect.Slice:
		if v.IsNil() {
			return nil, errNil
		}
	}
	return marshalPython(v, allowNaN)
}

// decode decodes data into v, an addressable zero value of p.t.
func (p *typePlan) decode(v reflect.Value, data []byte, o *decodeOptions) error {
	switch p.dec {
	case planText:
		return wrapInvalid(v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText(data))
	case planString:
		v.SetString(string(data))
		return nil
	case planBytes:
		v.SetBytes(cloneBytes(data))
		return nil
	case planBool:
		b, err := strconv.ParseBool(string(data))
		v.SetBool(b)
		return err
	case planInt:
		n, err := strconv.ParseInt(string(data), 10, v.Type().Bits())
		v.SetInt(n)
		return numErr(err)
	case planUint:
		n, err := strconv.ParseUint(string(data), 10, v.Type().Bits())
		v.SetUint(n)
		return numErr(err)
	case planFloat:
		f, err := strconv.ParseFloat(string(data), v.Type().Bits())
		if err == nil && o.noNaN && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return &NonFiniteError{Value: string(data), Offset: 0}
		}
		v.SetFloat(f)
		return numErr(err)
	case planPointer:
		e := reflect.New(p.elem.t)
		if err := p.elem.decode(e.Elem(), data, o); err != nil {
			return err
		}
		v.Set(e)
		return nil
	case planUnsupported:
		return fmt.Errorf("codec: a value of type %s cannot be decoded", v.Type())
	}
	return o.unmarshal(data, v)
}

// cloneBytes returns a copy of b, never nil: a stored value may be empty, but
// it is a value.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	return bytes.Clone(b)
}

// numErr marks an out-of-range number as a validation failure; any other
// parse error means the data is not a number at all.
func numErr(err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return invalid(err)
	}
	return err
}

// wrapInvalid marks a non-nil err as a validation failure.
func wrapInvalid(err error) error {
	if err == nil {
		return nil
	}
	return invalid(err)
}
