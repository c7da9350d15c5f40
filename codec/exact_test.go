package codec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/internal/backendtest"
)

// TestBigIntsInAny checks that integers beyond 2^53 read into an interface
// keep every digit, at any depth, and are written back as they were.
func TestBigIntsInAny(t *testing.T) {
	const data = `{"a": 9223372036854775807, "b": [18446744073709551616, {"c": -100000000000000000000001}], "d": 9007199254740993}`
	c := codec.JSON[map[string]any](nil)
	v, err := c.Decode([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := v["a"]; got != json.Number("9223372036854775807") {
		t.Errorf("a = %#v, want json.Number 9223372036854775807", got)
	}
	if n, err := v["a"].(json.Number).Int64(); err != nil || n != math.MaxInt64 {
		t.Errorf("a.Int64() = %d, %v", n, err)
	}
	inner := v["b"].([]any)[1].(map[string]any)["c"]
	if inner != json.Number("-100000000000000000000001") {
		t.Errorf("b[1].c = %#v", inner)
	}
	out, err := c.Encode(v)
	if err != nil || string(out) != data {
		t.Errorf("written back as %s, %v; want %s", out, err, data)
	}

	// Through a Store, and inside a struct's any.
	type doc struct {
		ID   int64 `json:"id"`
		Meta any   `json:"meta"`
	}
	ctx := backendtest.Context(t)
	store := newMemory(t)
	const stored = `{"id": 9223372036854775807, "meta": {"ratio": 2.0, "seq": 18446744073709551615}}`
	if err := store.Set(ctx, "k", []byte(stored)); err != nil {
		t.Fatal(err)
	}
	s := codec.New[doc](store, nil)
	got, _, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k", got); err != nil {
		t.Fatal(err)
	}
	if raw, _, _ := s.GetRaw(ctx, "k"); string(raw) != stored {
		t.Errorf("read then written: %s, want %s", raw, stored)
	}
}

// nanHolder has the special floats in every place a struct holds them.
type nanHolder struct {
	F   float64            `json:"f"`
	F32 float32            `json:"f32"`
	P   *float64           `json:"p"`
	L   []float64          `json:"l"`
	A   [2]float32         `json:"a"`
	M   map[string]float64 `json:"m"`
	I   map[int]float64    `json:"i"`
	Any any                `json:"any"`
	N   json.Number        `json:"n"`
	Raw json.RawMessage    `json:"raw"`
	Sub struct {
		G float64 `json:"g"`
		S string  `json:"s"`
	} `json:"sub"`
	Embedded
	Other string `json:"other"`
}

type Embedded struct {
	E float64 `json:"e"`
}

// TestNonFinite checks that Python's NaN, Infinity and -Infinity are read
// into floats, json.Numbers and interfaces wherever they are, and written
// back as Python writes them.
func TestNonFinite(t *testing.T) {
	const data = `{"f": NaN, "f32": -Infinity, "p": Infinity, "l": [1.5, NaN], "a": [Infinity, 2.0], ` +
		`"m": {"x": NaN, "y": 1.0}, "i": {"7": -Infinity}, "any": {"deep": [NaN, 1, "s"]}, "n": Infinity, ` +
		`"raw": {"r": NaN}, "sub": {"g": -Infinity, "s": "x"}, "e": NaN, "other": "o"}`
	c := codec.JSON[nanHolder](nil)
	v, err := c.Decode([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	nan, inf := math.NaN(), math.Inf(1)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"f", v.F, nan}, {"f32", float64(v.F32), -inf}, {"l[1]", v.L[1], nan}, {"l[0]", v.L[0], 1.5},
		{"a[0]", float64(v.A[0]), inf}, {"a[1]", float64(v.A[1]), 2}, {"m.x", v.M["x"], nan}, {"m.y", v.M["y"], 1},
		{"i.7", v.I[7], -inf}, {"sub.g", v.Sub.G, -inf}, {"e", v.E, nan},
	}
	if v.P == nil {
		t.Fatal("p is nil")
	}
	checks = append(checks, struct {
		name      string
		got, want float64
	}{"p", *v.P, inf})
	for _, c := range checks {
		if !(c.got == c.want || math.IsNaN(c.got) && math.IsNaN(c.want)) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if want := map[string]any{"deep": []any{json.Number("NaN"), json.Number("1"), "s"}}; !reflect.DeepEqual(v.Any, want) {
		t.Errorf("any = %#v, want %#v", v.Any, want)
	}
	if v.N != "Infinity" || string(v.Raw) != `{"r": NaN}` || v.Sub.S != "x" || v.Other != "o" {
		t.Errorf("n, raw, sub.s, other = %q, %q, %q, %q", v.N, v.Raw, v.Sub.S, v.Other)
	}
	out, err := c.Encode(v)
	const want = `{"f": NaN, "f32": -Infinity, "p": Infinity, "l": [1.5, NaN], "a": [Infinity, 2.0], ` +
		`"m": {"x": NaN, "y": 1.0}, "i": {"7": -Infinity}, "any": {"deep": [NaN, 1, "s"]}, "n": Infinity, ` +
		`"raw": {"r": NaN}, "sub": {"g": -Infinity, "s": "x"}, "e": NaN, "other": "o"}`
	if err != nil || string(out) != want {
		t.Errorf("written back as\n%s, %v\nwant\n%s", out, err, want)
	}
}

// TestNonFiniteErrors checks the failures of documents holding the special
// floats: a type that cannot hold one is a validation failure, naming the
// field; bad JSON around one is encoding/json's syntax error; DisallowNaN
// refuses them with a NonFiniteError.
func TestNonFiniteErrors(t *testing.T) {
	type strict struct {
		A float64 `json:"a"`
	}
	cases := []struct {
		name, data string
		decode     func([]byte) error
		validation bool
		text       string
	}{
		{"into an int field", `{"n": NaN}`, decodeAs[struct {
			N int `json:"n"`
		}](nil), true, "json: cannot unmarshal number NaN into Go struct field .n of type int"},
		{"into a string", `[Infinity]`, decodeAs[[]string](nil), true, "cannot unmarshal number Infinity into Go value of type string"},
		{"into a bool map", `{"x": -Infinity}`, decodeAs[map[string]bool](nil), true, "cannot unmarshal number -Infinity"},
		{"an object into a slice", `{"x": NaN}`, decodeAs[[]float64](nil), true, "cannot unmarshal object into Go value of type []float64"},
		{"a time", `{"at": NaN}`, decodeAs[pyEvent](nil), true, "codec: a time must be a JSON string"}, // its UnmarshalJSON says
		{"an int map key", `{"x": NaN}`, decodeAs[map[int]float64](nil), true, "cannot unmarshal number x"},
		{"a string option", `{"f": NaN}`, decodeAs[quotedFloat](nil), true, "invalid use of ,string struct tag"},
		{"unknown field, strict", `{"a": 1.0, "b": NaN}`, decodeAs[strict](&codec.JSONOptions{Strict: true}), true, `json: unknown field "b"`},
		{"unknown finite field, strict", `{"a": NaN, "b": 1}`, decodeAs[strict](&codec.JSONOptions{Strict: true}), true, `json: unknown field "b"`},
		// Bad JSON is encoding/json's error, which stops at the first NaN.
		{"trailing comma", `[NaN,]`, decodeAs[[]float64](nil), false, "invalid character 'N' looking for beginning of value"},
		{"lowercase", `[nan]`, decodeAs[[]float64](nil), false, "invalid character 'a' in literal null"},
		{"+Infinity", `[+Infinity]`, decodeAs[[]float64](nil), false, "invalid character '+'"},
		{"DisallowNaN", `{"a": [1, -Infinity]}`, decodeAs[map[string][]float64](&codec.JSONOptions{DisallowNaN: true}), false,
			"codec: -Infinity is not allowed (JSONOptions.DisallowNaN) at offset 10"},
		{"DisallowNaN into any", `NaN`, decodeAs[any](&codec.JSONOptions{DisallowNaN: true}), false, "codec: NaN is not allowed"},
		{"DisallowNaN, a float on its own", `-inf`, decodeAs[float32](&codec.JSONOptions{DisallowNaN: true}), false, "codec: -inf is not allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.decode([]byte(c.data))
			if err == nil {
				t.Fatal("decoded, want an error")
			}
			if got := errors.Is(err, codec.ErrValidation); got != c.validation {
				t.Errorf("%v: errors.Is(_, ErrValidation) = %v, want %v", err, got, c.validation)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Errorf("error %q, want it to contain %q", err, c.text)
			}
		})
	}
	if _, err := codec.JSON[any](&codec.JSONOptions{DisallowNaN: true}).Encode(json.Number("-Infinity")); err == nil {
		t.Error("DisallowNaN: a json.Number -Infinity on its own was written")
	}
	_, err := codec.JSON[[]float64](&codec.JSONOptions{DisallowNaN: true}).Decode([]byte(`[1, NaN]`))
	if nf := asError[*codec.NonFiniteError](t, err); nf.Value != "NaN" || nf.Offset != 4 {
		t.Errorf("%+v, want NaN at offset 4", nf)
	}
}

func decodeAs[T any](opts *codec.JSONOptions) func([]byte) error {
	return func(b []byte) error {
		_, err := codec.JSON[T](opts).Decode(b)
		return err
	}
}

// TestNonFiniteStore checks DisallowNaN through a Store: a write is a
// SerializationError and writes nothing; a read is a DeserializationError
// saying "Failed to decode JSON"; both reach the NonFiniteError.
func TestNonFiniteStore(t *testing.T) {
	ctx := backendtest.Context(t)
	store := newMemory(t)
	type point struct{ X, Y float64 }
	s := codec.New(store, &codec.Options[point]{Codec: codec.JSON[point](&codec.JSONOptions{DisallowNaN: true})})
	err := s.Set(ctx, "p", point{1, math.Inf(1)})
	asError[*codec.SerializationError](t, err)
	asError[*codec.NonFiniteError](t, err)
	if _, found, _ := s.GetRaw(ctx, "p"); found {
		t.Error("the value was written")
	}
	if err := store.Set(ctx, "p", []byte(`{"X": 1.0, "Y": NaN}`)); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Get(ctx, "p")
	wantFailure(t, err, false)
	asError[*codec.NonFiniteError](t, err)
	if want := "Failed to decode JSON for key 'p': codec: NaN is not allowed (JSONOptions.DisallowNaN) at offset 16"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	// The default reads it.
	p, _, err := codec.New[point](store, nil).Get(ctx, "p")
	if err != nil || p.X != 1 || !math.IsNaN(p.Y) {
		t.Errorf("Get = %v, %v", p, err)
	}
}

// TestValidateOnWrite checks that a value whose Validate method fails is
// refused by Encode, Set and SetWithTTL with the validation error, and
// that nothing is written.
func TestValidateOnWrite(t *testing.T) {
	ctx := backendtest.Context(t)
	store := newMemory(t)
	if _, err := codec.JSON[validated](nil).Encode(validated{-1}); !errors.Is(err, codec.ErrValidation) {
		t.Errorf("Encode: %v, want a validation failure", err)
	}
	if _, err := codec.JSON[*ptrValidated](nil).Encode(&ptrValidated{"ab"}); !errors.Is(err, codec.ErrValidation) {
		t.Errorf("Encode through a pointer: %v, want a validation failure", err)
	}
	if _, err := codec.JSON[any](nil).Encode(validated{-1}); !errors.Is(err, codec.ErrValidation) {
		t.Errorf("Encode through an interface: %v, want a validation failure", err)
	}
	if _, err := codec.JSON[validName](nil).Encode(""); !errors.Is(err, codec.ErrValidation) {
		t.Errorf("Encode of a verbatim string: %v, want a validation failure", err)
	}
	if _, err := codec.JSON[*ptrValidated](nil).Encode(nil); err == nil || errors.Is(err, codec.ErrValidation) {
		t.Errorf("Encode of a nil pointer: %v, want the nil value refused before Validate is called", err)
	}

	s := codec.New[ptrValidated](store, nil)
	writes := map[string]func() error{
		"Set":        func() error { return s.Set(ctx, "acct", ptrValidated{"nobody"}) },
		"SetWithTTL": func() error { return s.SetWithTTL(ctx, "acct", ptrValidated{"nobody"}, time.Hour) },
	}
	for name, write := range writes {
		err := write()
		se := asError[*codec.SerializationError](t, err)
		if !errors.Is(err, codec.ErrValidation) || se.Key != "acct" || se.Model != "ptrValidated" {
			t.Errorf("%s: %+v, want a validation failure for key acct and model ptrValidated", name, se)
		}
		if want := "Validation failed for key 'acct' and model 'ptrValidated': email needs an @"; err.Error() != want {
			t.Errorf("%s: %q, want %q", name, err, want)
		}
		if _, found, _ := s.GetRaw(ctx, "acct"); found {
			t.Errorf("%s wrote the invalid value", name)
		}
	}
	if err := s.Set(ctx, "acct", ptrValidated{"a@b"}); err != nil {
		t.Errorf("a valid value: %v", err)
	}
	// The message of any other failure is unchanged.
	err := codec.New[map[string]any](store, nil).Set(ctx, "m", map[string]any{"c": make(chan int)})
	if !strings.HasPrefix(err.Error(), "Failed to serialize value for Redis key 'm': ") {
		t.Errorf("%q", err)
	}
}

// TestEqual checks the JSON codec's Comparer.
func TestEqual(t *testing.T) {
	doc := codec.JSON[map[string]any](nil).(codec.Comparer)
	text := codec.JSON[string](nil).(codec.Comparer)
	float := codec.JSON[float64](nil).(codec.Comparer)
	anyc := codec.JSON[any](nil).(codec.Comparer)
	ptr := codec.JSON[*pyUser](nil).(codec.Comparer)
	cases := []struct {
		c    codec.Comparer
		a, b string
		want bool
	}{
		{doc, `{"a": 1, "b": [1.0, "x"]}`, `{"b":[1.0,"x"],"a":1}`, true},
		{doc, `{"a": 1}`, `{"a": 1.0}`, false},
		{doc, `{"a": 1.0}`, `{"a": 1.00}`, true},
		{doc, `{"a": 1e16}`, `{"a": 10000000000000000.0}`, true},
		{doc, `{"a": 1e16}`, `{"a": 10000000000000000}`, false},
		{doc, `{"a": 0.0}`, `{"a": -0.0}`, false},
		{doc, `{"a": 0}`, `{"a": -0}`, true},
		{doc, `{"a": NaN}`, `{"a": NaN}`, true},
		{doc, `{"a": Infinity}`, `{"a": 1e999}`, true},
		{doc, `{"a": Infinity}`, `{"a": -Infinity}`, false},
		{doc, `{"a": 18446744073709551617}`, `{"a": 18446744073709551616}`, false},
		{doc, `{"a": true}`, `{"a": 1}`, false},
		{doc, `{"a": null}`, `{}`, false},
		{doc, `{"a": 1, "a": 2}`, `{"a": 2}`, true},
		{doc, `{"\u00e9": "\ud83d\ude80"}`, "{\"é\": \"\U0001F680\"}", true},
		{doc, `{"s": "\ud800"}`, `{"s": "\udc00"}`, false},
		{doc, `[1, 2]`, `[2, 1]`, false},
		{doc, `{"a": 1}`, `{"a": 1, "b": 2}`, false},
		{doc, `{"a": 1}`, `{"a": 1`, false},
		{ptr, `{"user_id": 1, "name": "A"}`, `{"name": "A", "user_id": 1}`, true},
		{anyc, `[1, 2]`, `[1,2]`, true},
		// Verbatim encodings compare as bytes.
		{text, `{"a": 1}`, `{"a":1}`, false},
		{text, `x`, `x`, true},
		{float, `1.0`, `1.00`, false},
	}
	for _, c := range cases {
		if got := c.c.Equal([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("%T Equal(%s, %s) = %v, want %v", c.c, c.a, c.b, got, c.want)
		}
		if got := c.c.Equal([]byte(c.b), []byte(c.a)); got != c.want {
			t.Errorf("%T Equal(%s, %s) = %v, want %v", c.c, c.b, c.a, got, c.want)
		}
	}
}

// The types of TestEncodeAsEncodingJSON: the rules of encoding/json for
// which fields are written, and how.
type (
	inner struct {
		X int `json:"x"`
		Y string
	}
	Promoted struct {
		P int
		Q int `json:"q,omitempty"`
	}
	promotedLower struct {
		L int `json:"l"`
	}
	conflictA  struct{ Same int }
	conflictB  struct{ Same int }
	zeroByFunc struct{ V int }
	shapes     struct {
		Promoted
		*promotedLower
		conflictA
		conflictB
		Tagged  int `json:"renamed"`
		Skipped int `json:"-"`
		//lint:ignore SA5008 a field named "-", as encoding/json allows
		Dash         int               `json:"-,"`
		Omit         string            `json:",omitempty"`
		OmitZero     zeroByFunc        `json:",omitzero"`
		Quoted       int64             `json:",string"`
		QuotedStr    string            `json:",string"`
		QuotedBool   bool              `json:",string"`
		unexported   int               // not written
		Inner        inner             `json:"inner"`
		InnerPtr     *inner            `json:"inner_ptr"`
		NilPtr       *inner            `json:"nil_ptr"`
		IntKeys      map[int]string    `json:"int_keys"`
		TextKeys     map[pyColor]int   `json:"text_keys"`
		Bytes        []byte            `json:"bytes"`
		NilBytes     []byte            `json:"nil_bytes"`
		Array        [2]bool           `json:"array"`
		NilSlice     []int             `json:"nil_slice"`
		NilMap       map[string]int    `json:"nil_map"`
		Iface        any               `json:"iface"`
		Raw          json.RawMessage   `json:"raw"`
		Time         time.Time         `json:"time"`
		Enum         pyColor           `json:"enum"`
		EnumPtr      *pyColor          `json:"enum_ptr"`
		Marshaler    upperName         `json:"marshaler"`
		Strings      map[string]string `json:"strings"`
		EmptyTagName int               `json:",omitempty"`
	}
)

func (z zeroByFunc) IsZero() bool { return z.V < 0 }

// TestEncodeAsEncodingJSON checks that the fields, the keys and the values
// written are encoding/json's, on values without floats or non-ASCII text:
// once compacted, the bytes are the same.
func TestEncodeAsEncodingJSON(t *testing.T) {
	red := pyRed
	v := shapes{
		Promoted:      Promoted{P: 1},
		promotedLower: &promotedLower{L: 2},
		conflictA:     conflictA{3},
		conflictB:     conflictB{4},
		Tagged:        5, Skipped: 6, Dash: 7, OmitZero: zeroByFunc{-1}, Quoted: 8, QuotedStr: `q"s`, QuotedBool: true,
		unexported: 9,
		Inner:      inner{10, "y"}, InnerPtr: &inner{11, "z"},
		IntKeys:  map[int]string{3: "c", -1: "a", 20: "b"},
		TextKeys: map[pyColor]int{pyGreen: 1, pyRed: 2},
		Bytes:    []byte("\x00\xffbytes"),
		Iface:    map[string]any{"k": []any{1, "two", nil, true}},
		Raw:      json.RawMessage(`{"r" : [1 , 2]}`),
		Time:     time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		Enum:     pyDarkBlue, EnumPtr: &red,
		Marshaler: "ada",
		Strings:   map[string]string{"<&>": "\t\"\\", "b": "", "a": "\x00\x1f"},
	}
	got, err := codec.JSON[shapes](nil).Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, got); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if compact.String() != strings.TrimSuffix(want.String(), "\n") {
		t.Errorf("codec writes (compacted)\n%s\nencoding/json writes\n%s", compact.String(), want.String())
	}
}

// TestEncodeInvalidTagName checks that a field whose tag names it with
// characters a JSON name may not hold is written under the field's own
// name, as encoding/json up to Go 1.26 writes it (Go 1.27's, built on its
// json/v2, takes such a name as it is), whatever Go builds the codec.
func TestEncodeInvalidTagName(t *testing.T) {
	type badTag struct {
		//lint:ignore SA5008 an invalid name, which the codec replaces with the field's
		BadTagName int `json:"a\\b"`
	}
	got, err := codec.JSON[badTag](nil).Encode(badTag{1})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"BadTagName": 1}`; string(got) != want {
		t.Errorf("Encode = %s, want %s", got, want)
	}
}

// TestEncodeCycle checks that a cycle is an error, not a stack overflow.
func TestEncodeCycle(t *testing.T) {
	type node struct {
		Next *node `json:"next"`
	}
	n := &node{}
	n.Next = n
	_, err := codec.JSON[*node](nil).Encode(n)
	var uv *json.UnsupportedValueError
	if !errors.As(err, &uv) || !strings.Contains(err.Error(), "encountered a cycle") {
		t.Errorf("Encode of a cycle: %v", err)
	}
	m := map[string]any{}
	m["m"] = m
	if _, err := codec.JSON[map[string]any](nil).Encode(m); !errors.As(err, &uv) {
		t.Errorf("Encode of a map cycle: %v", err)
	}
}

// TestMarshalerOutput checks the output of MarshalJSON methods: rewritten
// in Python's style, NaN kept unless refused, bad JSON an error.
func TestMarshalerOutput(t *testing.T) {
	cases := []struct {
		raw     string
		opts    *codec.JSONOptions
		want    string
		wantErr string
	}{
		{`{"a":[1,2.50,{}],"b" :"é\u00e9"}`, nil, `{"a": [1, 2.50, {}], "b": "\u00e9\u00e9"}`, ""},
		{` [ NaN , -Infinity ] `, nil, `[NaN, -Infinity]`, ""},
		{`[NaN]`, &codec.JSONOptions{DisallowNaN: true}, "", "codec: NaN is not allowed"},
		// The type is json.RawMessage, or jsontext.Value as Go 1.27 names it.
		{`{"a":}`, nil, "", "json: error calling MarshalJSON for type "},
		{`[1] [2]`, nil, "", "after top-level value"},
		{"\"\x01\"", nil, "", "control character"},
	}
	for _, c := range cases {
		got, err := codec.JSON[json.RawMessage](c.opts).Encode(json.RawMessage(c.raw))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Encode(%s) = %s, %v; want an error containing %q", c.raw, got, err, c.wantErr)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("Encode(%s) = %s, %v; want %s", c.raw, got, err, c.want)
		}
	}
}

// TestDecoderReuse decodes documents one after another, and at once, through
// the codecs that keep json.Decoders for reuse: no document sees anything
// of another, whatever ended the one before (trailing spaces, bad JSON,
// trailing data, a number at the end of the input).
func TestDecoderReuse(t *testing.T) {
	n := func(s string) json.Number { return json.Number(s) }
	docs := []struct {
		in   string
		want any // nil: an error
	}{
		{`{"a": 1}`, map[string]any{"a": n("1")}},
		{`5`, n("5")},
		{"[1, 2.0] \n", []any{n("1"), n("2.0")}},
		{`{"a": `, nil},
		{`{} {}`, nil},
		{`"x"`, "x"},
		{``, nil},
		{` 7`, n("7")},
		{`[NaN, 1e400]`, []any{n("NaN"), n("1e400")}},
		{`{"b": [true, null]}`, map[string]any{"b": []any{true, nil}}},
		{`12345678901234567890`, n("12345678901234567890")},
		{`[1]x`, nil},
		{`{"c": {}}`, map[string]any{"c": map[string]any{}}},
	}
	c := codec.JSON[any](nil)
	check := func(t *testing.T, i int) {
		d := docs[i%len(docs)]
		got, err := c.Decode([]byte(d.in))
		if d.want == nil {
			if err == nil {
				t.Errorf("Decode(%q) = %#v, want an error", d.in, got)
			}
			return
		}
		if err != nil || !reflect.DeepEqual(got, d.want) {
			t.Errorf("Decode(%q) = %#v, %v; want %#v", d.in, got, err, d.want)
		}
	}
	for i := range 3 * len(docs) {
		check(t, i)
	}
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				check(t, g+i)
			}
		}()
	}
	for range 4 {
		<-done
	}

	// Strict decoders are kept apart from the others.
	type one struct {
		A any `json:"a"`
	}
	strict := codec.JSON[one](&codec.JSONOptions{Strict: true})
	lax := codec.JSON[one](nil)
	for range 3 {
		if _, err := strict.Decode([]byte(`{"a": 1, "b": 2}`)); err == nil {
			t.Error("strict: an unknown field was accepted")
		}
		if v, err := lax.Decode([]byte(`{"a": 1, "b": 2}`)); err != nil || v.A != n("1") {
			t.Errorf("lax: %v, %v", v, err)
		}
	}
}
