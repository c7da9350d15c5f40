package codec

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sync"
)

// Decoding JSON. encoding/json decodes, with two additions for Python's
// JSON: numbers read into an interface are json.Numbers, which keep their
// exact text (UseNumber), and NaN, Infinity and -Infinity, which
// encoding/json rejects, are read by a decoder of their own: a document
// that holds one is parsed (parsePy), and encoding/json decodes every part
// of it that holds none, while the parts that do are walked here.

// decodeOptions say how JSON is decoded.
type decodeOptions struct {
	strict    bool // reject unknown fields
	noNaN     bool // reject NaN and infinities
	useNumber bool // the type holds an interface: decode with UseNumber
}

var errNull = errors.New("codec: JSON null is not a value")

// unmarshal decodes the JSON in data into v, an addressable zero value. A
// syntax error is returned as it is (the data is not JSON); any other
// failure, and a JSON null, is marked as a validation failure.
func (o *decodeOptions) unmarshal(data []byte, v reflect.Value) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return invalid(errNull)
	}
	err := o.std(data, v.Addr().Interface())
	if err == nil {
		return nil
	}
	if serr := (*json.SyntaxError)(nil); !errors.As(err, &serr) {
		return invalid(err)
	}
	// Not JSON; it may be Python's, with NaN or Infinity.
	if bytes.IndexByte(data, 'N') < 0 && bytes.IndexByte(data, 'I') < 0 {
		return err
	}
	root, perr := parsePy(data)
	if perr != nil || !root.nonFinite {
		return err // encoding/json's error says what is wrong
	}
	if o.noNaN {
		bad := firstNonFinite(&root)
		return &NonFiniteError{Value: string(data[bad.start:bad.end]), Offset: int64(bad.start)}
	}
	v.SetZero() // encoding/json checks the syntax first: v is untouched, but be sure
	d := treeDecoder{opts: o, data: data}
	if err := d.value(v, &root); err != nil {
		if serr := (*json.SyntaxError)(nil); errors.As(err, &serr) {
			return err
		}
		return invalid(err)
	}
	return nil
}

// std decodes data, one JSON value, into ptr with encoding/json. It uses
// a json.Decoder kept for reuse, which UseNumber and DisallowUnknownFields
// need, and which allocates less than json.Unmarshal, whose decoding state
// is made anew on every call.
func (o *decodeOptions) std(data []byte, ptr any) error {
	if len(data) > maxPooled && !o.strict && !o.useNumber {
		// A decoder for it would not be kept, and would copy it.
		return json.Unmarshal(data, ptr)
	}
	pool := &streamDecoders[o.poolIndex()]
	sd, _ := pool.Get().(*streamDecoder)
	if sd == nil {
		sd = &streamDecoder{}
		sd.dec = json.NewDecoder(&sd.src)
		if o.strict {
			sd.dec.DisallowUnknownFields()
		}
		if o.useNumber {
			sd.dec.UseNumber()
		}
	}
	sd.src.data = data
	start := sd.dec.InputOffset()
	err := sd.dec.Decode(ptr)
	read := int(sd.dec.InputOffset() - start) // the bytes of data the value took
	drained := len(sd.src.data) == 0
	sd.src.data = nil
	if err == nil && read == len(data) && drained && len(data) <= maxPooled {
		// Nothing of data is left in the decoder: it is ready for the
		// next value.
		pool.Put(sd)
	}
	if err == nil {
		if len(bytes.TrimLeft(data[read:], " \t\r\n")) == 0 {
			return nil
		}
	} else if serr := (*json.SyntaxError)(nil); !errors.As(err, &serr) && err != io.EOF && err != io.ErrUnexpectedEOF {
		return err
	}
	if json.Valid(data) {
		return err // a syntax error of an UnmarshalJSON method
	}
	// Unmarshal checks the syntax of the whole input before it decodes
	// anything, and says what is wrong as encoding/json always does.
	var nothing struct{}
	return json.Unmarshal(data, &nothing)
}

// A streamDecoder is a json.Decoder that reads the data it is given, one
// value at a time. A decoder whose last value took all of its data is
// ready for the next, and waits in streamDecoders, so that a decode
// allocates no decoder, no decoding state and no buffer.
type streamDecoder struct {
	src dataReader
	dec *json.Decoder
}

// streamDecoders pool the streamDecoders of each combination of options.
var streamDecoders [4]sync.Pool

func (o *decodeOptions) poolIndex() int {
	i := 0
	if o.strict {
		i |= 1
	}
	if o.useNumber {
		i |= 2
	}
	return i
}

// A dataReader reads the bytes it holds, then reports io.EOF.
type dataReader struct{ data []byte }

func (r *dataReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// A treeDecoder decodes a parsed document of Python's JSON that holds a
// special float.
type treeDecoder struct {
	opts *decodeOptions
	data []byte
}

func (d *treeDecoder) text(n *pyNode) []byte { return d.data[n.start:n.end] }

// value decodes n into v, settable, as encoding/json would if it read the
// special floats: into a float, a json.Number or an interface.
func (d *treeDecoder) value(v reflect.Value, n *pyNode) error {
	if !v.CanSet() || !v.CanInterface() {
		return fmt.Errorf("codec: cannot decode into a value of type %s", v.Type())
	}
	if !n.nonFinite {
		return d.opts.std(d.text(n), v.Addr().Interface())
	}
	u, ut, pv := indirect(v)
	if u != nil {
		return u.UnmarshalJSON(d.text(n))
	}
	if ut != nil {
		return d.typeError(n, v.Type())
	}
	v = pv
	switch n.kind {
	case nodeObject:
		return d.object(v, n)
	case nodeArray:
		return d.array(v, n)
	}
	return d.special(v, n)
}

// typeError is encoding/json's error for n, which a value of type t cannot
// hold.
func (d *treeDecoder) typeError(n *pyNode, t reflect.Type) error {
	what := "number " + string(d.text(n))
	switch n.kind {
	case nodeObject:
		what = "object"
	case nodeArray:
		what = "array"
	}
	return &json.UnmarshalTypeError{Value: what, Type: t, Offset: int64(n.start)}
}

// special decodes the special float n into v.
func (d *treeDecoder) special(v reflect.Value, n *pyNode) error {
	text := d.text(n)
	switch {
	case v.Kind() == reflect.Float32 || v.Kind() == reflect.Float64:
		f := math.NaN()
		switch string(text) {
		case "Infinity":
			f = math.Inf(1)
		case "-Infinity":
			f = math.Inf(-1)
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Interface && v.NumMethod() == 0:
		v.Set(reflect.ValueOf(json.Number(text)))
	case v.Type() == numberType:
		v.SetString(string(text))
	default:
		return d.typeError(n, v.Type())
	}
	return nil
}

// object decodes the object n into v, a map, a struct or an empty
// interface.
func (d *treeDecoder) object(v reflect.Value, n *pyNode) error {
	t := v.Type()
	switch v.Kind() {
	case reflect.Interface:
		if v.NumMethod() != 0 {
			return d.typeError(n, t)
		}
		m := make(map[string]any, len(n.kids)/2)
		for i := 0; i+1 < len(n.kids); i += 2 {
			var x any
			if err := d.value(reflect.ValueOf(&x).Elem(), &n.kids[i+1]); err != nil {
				return err
			}
			var key string
			if err := json.Unmarshal(d.text(&n.kids[i]), &key); err != nil {
				return err
			}
			m[key] = x
		}
		v.Set(reflect.ValueOf(m))
		return nil
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			if !reflect.PointerTo(t.Key()).Implements(textUnmarshaler) {
				return d.typeError(n, t)
			}
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
	case reflect.Struct:
	default:
		return d.typeError(n, t)
	}
	// The members without a special float go to encoding/json, a run of
	// them at a time, in order, as an object of their own; the others are
	// decoded here.
	var run []byte
	flush := func() error {
		if run == nil {
			return nil
		}
		err := d.opts.std(append(run, '}'), v.Addr().Interface())
		run = nil
		return err
	}
	for i := 0; i+1 < len(n.kids); i += 2 {
		key, val := &n.kids[i], &n.kids[i+1]
		if !val.nonFinite {
			if run == nil {
				run = []byte{'{'}
			} else {
				run = append(run, ',')
			}
			run = append(append(append(run, d.text(key)...), ':'), d.text(val)...)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		var err error
		if v.Kind() == reflect.Map {
			err = d.mapMember(v, key, val)
		} else {
			err = d.structMember(v, key, val)
		}
		if err != nil {
			return err
		}
	}
	return flush()
}

// mapMember decodes the member key: val into the map v.
func (d *treeDecoder) mapMember(v reflect.Value, key, val *pyNode) error {
	// encoding/json turns the key into a map key: it reads {key: null}
	// into a map of the same key type.
	kt := v.Type().Key()
	keys := reflect.New(reflect.MapOf(kt, reflect.TypeFor[struct{}]()))
	doc := append(append([]byte{'{'}, d.text(key)...), ":null}"...)
	if err := json.Unmarshal(doc, keys.Interface()); err != nil {
		return err
	}
	it := keys.Elem().MapRange()
	if !it.Next() {
		return fmt.Errorf("codec: the key %s of a %s was not read", d.text(key), v.Type())
	}
	elem := reflect.New(v.Type().Elem()).Elem()
	if err := d.value(elem, val); err != nil {
		return err
	}
	v.SetMapIndex(it.Key(), elem)
	return nil
}

// structMember decodes the member key: val into the struct v.
func (d *treeDecoder) structMember(v reflect.Value, key, val *pyNode) error {
	var name string
	if err := json.Unmarshal(d.text(key), &name); err != nil {
		return err
	}
	f := cachedTypeFields(v.Type()).fieldByName([]byte(name))
	if f == nil {
		if d.opts.strict {
			return fmt.Errorf("json: unknown field %q", name)
		}
		return nil
	}
	sub := v
	for _, i := range f.index {
		if sub.Kind() == reflect.Pointer {
			if sub.IsNil() {
				if !sub.CanSet() {
					return fmt.Errorf("json: cannot set embedded pointer to unexported struct: %v", sub.Type().Elem())
				}
				sub.Set(reflect.New(sub.Type().Elem()))
			}
			sub = sub.Elem()
		}
		sub = sub.Field(i)
	}
	if f.quoted {
		return fmt.Errorf("json: invalid use of ,string struct tag, trying to unmarshal unquoted value into %v", sub.Type())
	}
	if err := d.value(sub, val); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			te.Struct, te.Field = v.Type().Name(), f.name
		}
		return err
	}
	return nil
}

// array decodes the array n into v, a slice, an array or an empty
// interface.
func (d *treeDecoder) array(v reflect.Value, n *pyNode) error {
	switch v.Kind() {
	case reflect.Interface:
		if v.NumMethod() != 0 {
			return d.typeError(n, v.Type())
		}
		s := make([]any, len(n.kids))
		for i := range n.kids {
			if err := d.value(reflect.ValueOf(&s[i]).Elem(), &n.kids[i]); err != nil {
				return err
			}
		}
		v.Set(reflect.ValueOf(s))
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), len(n.kids), len(n.kids))
		for i := range n.kids {
			if err := d.value(s.Index(i), &n.kids[i]); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			if i >= len(n.kids) {
				v.Index(i).SetZero()
				continue
			}
			if err := d.value(v.Index(i), &n.kids[i]); err != nil {
				return err
			}
		}
	default:
		return d.typeError(n, v.Type())
	}
	return nil
}

// indirect walks down v allocating pointers as needed, until it gets to a
// non-pointer, or to a type with an UnmarshalJSON or UnmarshalText method,
// which it returns: encoding/json's indirect, for a value that is not null.
func indirect(v reflect.Value) (json.Unmarshaler, encoding.TextUnmarshaler, reflect.Value) {
	v0 := v
	haveAddr := false
	// A named type that is addressable starts with its address, so that
	// its pointer methods are found.
	if v.Kind() != reflect.Pointer && v.Type().Name() != "" && v.CanAddr() {
		haveAddr = true
		v = v.Addr()
	}
	for {
		// Load value from interface, but only if the result will be
		// usefully addressable.
		if v.Kind() == reflect.Interface && !v.IsNil() {
			if e := v.Elem(); e.Kind() == reflect.Pointer && !e.IsNil() {
				haveAddr = false
				v = e
				continue
			}
		}
		if v.Kind() != reflect.Pointer {
			break
		}
		// An interface pointing to its own address.
		if v.Elem().Kind() == reflect.Interface && v.Elem().Elem().Equal(v) {
			v = v.Elem()
			break
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		if v.Type().NumMethod() > 0 && v.CanInterface() {
			if u, ok := reflect.TypeAssert[json.Unmarshaler](v); ok {
				return u, nil, reflect.Value{}
			}
			if u, ok := reflect.TypeAssert[encoding.TextUnmarshaler](v); ok {
				return nil, u, reflect.Value{}
			}
		}
		if haveAddr {
			v = v0 // restore the original value after the round trip through Addr
			haveAddr = false
		} else {
			v = v.Elem()
		}
	}
	return nil, nil, v
}

// holdsInterface reports whether decoding JSON into a value of type t may
// store a number in an interface: whether t is or holds one, not counting
// types that decode themselves.
func holdsInterface(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	if t.Kind() != reflect.Interface && t.Kind() != reflect.Pointer {
		if pt := reflect.PointerTo(t); pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
			return false
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return holdsInterface(t.Elem(), seen)
	case reflect.Struct:
		for _, f := range cachedTypeFields(t).list {
			if holdsInterface(typeByIndex(t, f.index), seen) {
				return true
			}
		}
	}
	return false
}
