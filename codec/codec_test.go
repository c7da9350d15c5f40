package codec_test

import (
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cledar/storekit/codec"
)

type (
	name      string
	blob      []byte
	count     int16
	ratio     float32
	flag      bool
	small     uint8
	pair      struct{ A, B int }
	tags      []string
	attrs     map[string]int
	triple    [3]int
	upperName string // has MarshalJSON: written as JSON, not verbatim
)

func (u upperName) MarshalJSON() ([]byte, error) { return json.Marshal(strings.ToUpper(string(u))) }

// failingText fails to marshal.
type failingText struct{}

func (failingText) MarshalText() ([]byte, error) { return nil, errors.New("no text") }

// withNaN holds a float that JSON cannot represent.
type withNaN struct{ X float64 }

// encodeCase encodes v with JSON[T] and checks the bytes or the error.
type encodeCase struct {
	name    string
	encode  func() ([]byte, error)
	want    string // when wantErr is empty
	wantErr string // a substring of the error
}

func enc[T any](v T) func() ([]byte, error) {
	return func() ([]byte, error) { return codec.JSON[T](nil).Encode(v) }
}

func encNoNaN[T any](v T) func() ([]byte, error) {
	return func() ([]byte, error) { return codec.JSON[T](&codec.JSONOptions{DisallowNaN: true}).Encode(v) }
}

// quotedFloat has a float field with the string option.
type quotedFloat struct {
	F float64 `json:"f,string"`
}

func TestEncodeRules(t *testing.T) {
	one := 1
	var nilUser *pyUser
	cases := []encodeCase{
		// Strings and bytes verbatim.
		{"string", enc("hello"), "hello", ""},
		{"string holding JSON", enc(`{"a": 1}`), `{"a": 1}`, ""},
		{"empty string", enc(""), "", ""},
		{"unicode string stays UTF-8", enc("zażółć"), "zażółć", ""},
		{"named string", enc(name("ada")), "ada", ""},
		{"bytes", enc([]byte{0, 0xff, 'x'}), "\x00\xffx", ""},
		{"empty bytes", enc([]byte{}), "", ""},
		{"named bytes", enc(blob("raw")), "raw", ""},
		{"raw message is JSON", enc(json.RawMessage(`{"a":1}`)), `{"a": 1}`, ""},
		// Numbers as decimal text, floats as Python's repr.
		{"int", enc(5), "5", ""},
		{"negative int", enc(-17), "-17", ""},
		{"int64 min", enc(int64(math.MinInt64)), "-9223372036854775808", ""},
		{"named int", enc(count(-3)), "-3", ""},
		{"uint64 max", enc(uint64(math.MaxUint64)), "18446744073709551615", ""},
		{"named uint8", enc(small(255)), "255", ""},
		{"float", enc(1.5), "1.5", ""},
		{"integral float", enc(100.0), "100.0", ""},
		{"float 1e16", enc(1e16), "1e+16", ""},
		{"float 1e15", enc(1e15), "1000000000000000.0", ""},
		{"float 1e-5", enc(1e-5), "1e-05", ""},
		{"float 1e-4", enc(1e-4), "0.0001", ""},
		{"float zero", enc(0.0), "0.0", ""},
		{"float32 shortest", enc(float32(0.1)), "0.1", ""},
		{"named float32", enc(ratio(2.5)), "2.5", ""},
		{"float NaN", enc(math.NaN()), "nan", ""},
		{"float -Inf", enc(math.Inf(-1)), "-inf", ""},
		// Booleans: a Go choice (redis-py refuses them).
		{"true", enc(true), "true", ""},
		{"named bool", enc(flag(false)), "false", ""},
		// JSON in Python's style for everything else.
		{"struct", enc(pyUser{1, "Alice"}), `{"user_id": 1, "name": "Alice"}`, ""},
		{"struct pointer", enc(&pyUser{2, "Bob"}), `{"user_id": 2, "name": "Bob"}`, ""},
		{"anonymous struct", enc(pair{1, 2}), `{"A": 1, "B": 2}`, ""},
		{"map sorted by key", enc(map[string]int{"b": 2, "a": 1}), `{"a": 1, "b": 2}`, ""},
		{"named map", enc(attrs{"x": 1}), `{"x": 1}`, ""},
		{"empty map", enc(map[string]int{}), `{}`, ""},
		{"slice", enc([]int{1, 2, 3}), `[1, 2, 3]`, ""},
		{"named slice", enc(tags{"a", "b"}), `["a", "b"]`, ""},
		{"empty slice", enc([]int{}), `[]`, ""},
		{"array", enc(triple{1, 2, 3}), `[1, 2, 3]`, ""},
		{"nested", enc(map[string]any{"l": []any{1, "x", nil, true, map[string]any{}}}), `{"l": [1, "x", null, true, {}]}`, ""},
		{"floats inside JSON are Python's repr", enc([]float64{1, 1.5, 1e21, 1e-7, 1e16, 1e15, 1e-5, 1e-4, 0.1, math.Copysign(0, -1)}),
			`[1.0, 1.5, 1e+21, 1e-07, 1e+16, 1000000000000000.0, 1e-05, 0.0001, 0.1, -0.0]`, ""},
		{"float32 inside JSON", enc(struct{ F []float32 }{[]float32{0.1, 2, 1e16}}), `{"F": [0.1, 2.0, 1e+16]}`, ""},
		{"floats in a struct, a map and through pointers", enc(struct {
			A float64
			M map[string]float64
			P *float64
			Q **float32
		}{2, map[string]float64{"x": 3}, ptr(4.0), ptr(ptr(float32(5)))}), `{"A": 2.0, "M": {"x": 3.0}, "P": 4.0, "Q": 5.0}`, ""},
		{"numbers in an interface", enc(map[string]any{"f": 2.0, "i": 2, "u": uint8(3), "f32": float32(0.5)}), `{"f": 2.0, "f32": 0.5, "i": 2, "u": 3}`, ""},
		{"float with the string option", enc(quotedFloat{2}), `{"f": "2.0"}`, ""},
		{"json.Number verbatim", enc([]json.Number{"1.0", "1E5", "-0", "18446744073709551616", "1e+16", ""}),
			`[1.0, 1E5, -0, 18446744073709551616, 1e+16, 0]`, ""},
		{"json.Number in an interface", enc(map[string]any{"n": json.Number("9223372036854775807")}), `{"n": 9223372036854775807}`, ""},
		{"json.Number NaN", enc([]json.Number{"NaN", "Infinity", "-Infinity"}), `[NaN, Infinity, -Infinity]`, ""},
		{"json.Number invalid", enc([]json.Number{"1.5x"}), "", `invalid number literal "1.5x"`},
		{"json.Number nan is not Python's JSON", enc([]json.Number{"nan"}), "", `invalid number literal "nan"`},
		{"separators inside strings are kept", enc([]string{"a,b", "c:d", `"e", "f": g`}), `["a,b", "c:d", "\"e\", \"f\": g"]`, ""},
		{"pointer to int", enc(&one), "1", ""},
		{"MarshalJSON wins over the kind", enc(upperName("ada")), `"ADA"`, ""},
		// MarshalText wins: the text, verbatim.
		{"enum", enc(pyDarkBlue), "dark_blue", ""},
		{"time", enc(ctime(2025, 1, 1, 0, 0, 0, 0, time.UTC)), "2025-01-01T00:00:00+00:00", ""},
		{"netip.Addr", enc(netip.MustParseAddr("10.0.0.1")), "10.0.0.1", ""},
		// Interfaces: the dynamic value's rules.
		{"any string", enc[any]("hi"), "hi", ""},
		{"any int", enc[any](7), "7", ""},
		{"any float", enc[any](2.0), "2.0", ""},
		{"any struct", enc[any](pyUser{3, "C"}), `{"user_id": 3, "name": "C"}`, ""},
		{"any enum", enc[any](pyRed), "red", ""},
		{"any map", enc[any](map[string]int{"a": 1}), `{"a": 1}`, ""},
		// Rejected: nil (Python's None) and types with no encoding.
		{"nil pointer", enc(nilUser), "", "nil value"},
		{"nil map", enc(map[string]int(nil)), "", "nil value"},
		{"nil slice", enc([]int(nil)), "", "nil value"},
		{"nil bytes", enc([]byte(nil)), "", "nil value"},
		{"nil named bytes", enc(blob(nil)), "", "nil value"},
		{"nil interface", enc[any](nil), "", "nil value"},
		{"interface holding a nil pointer", enc[any](nilUser), "", "nil value"},
		{"interface holding a nil map", enc[any](map[string]int(nil)), "", "nil value"},
		{"chan", enc(make(chan int)), "", "cannot be stored"},
		{"func", enc(func() {}), "", "cannot be stored"},
		{"complex", enc(complex(1, 2)), "", "cannot be stored"},
		{"any chan", enc[any](make(chan int)), "", "cannot be stored"},
		// NaN and the infinities as Python writes them, unless refused.
		{"NaN inside JSON", enc(withNaN{math.NaN()}), `{"X": NaN}`, ""},
		{"Inf inside JSON", enc(map[string]float64{"x": math.Inf(1)}), `{"x": Infinity}`, ""},
		{"-Inf inside JSON", enc([]any{math.Inf(-1), float32(math.Inf(1))}), `[-Infinity, Infinity]`, ""},
		{"NaN refused", encNoNaN(withNaN{math.NaN()}), "", "codec: NaN is not allowed (JSONOptions.DisallowNaN)"},
		{"-Inf refused", encNoNaN(map[string]any{"a": []float32{float32(math.Inf(-1))}}), "", "codec: -Infinity is not allowed"},
		{"NaN Number refused", encNoNaN([]json.Number{"NaN"}), "", "codec: NaN is not allowed"},
		{"top-level NaN refused", encNoNaN(math.NaN()), "", "codec: nan is not allowed"},
		{"top-level -Inf refused", encNoNaN(float32(math.Inf(-1))), "", "codec: -inf is not allowed"},
		{"finite floats pass DisallowNaN", encNoNaN([]float64{1, 2.5}), `[1.0, 2.5]`, ""},
		{"NaN with the string option", enc(quotedFloat{math.NaN()}), "", "unsupported value: NaN"},
		{"chan inside JSON", enc(map[string]any{"c": make(chan int)}), "", "unsupported type"},
		{"MarshalText error", enc(failingText{}), "", "no text"},
		{"enum non-member", enc(pyColor(9)), "", "codec_test.pyColor(9) is not a member"},
		{"time year 0", enc(ctime(0, 1, 1, 0, 0, 0, 0, time.UTC)), "", "year 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.encode()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Encode = %q, %v; want an error containing %q", got, err, c.wantErr)
				}
				return
			}
			if err != nil || string(got) != c.want {
				t.Fatalf("Encode = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// TestEncodeOwnsResult checks that Encode's result is not shared with the
// value or with later calls.
func TestEncodeOwnsResult(t *testing.T) {
	b := []byte("abc")
	got, _ := codec.JSON[[]byte](nil).Encode(b)
	got[0] = 'X'
	if string(b) != "abc" {
		t.Errorf("Encode shares the slice: %q", b)
	}
	c := codec.JSON[pyUser](nil)
	first, _ := c.Encode(pyUser{1, "a"})
	_, _ = c.Encode(pyUser{2, "bbbbbbbbbbbbbbbbbbbbbbbb"})
	if string(first) != `{"user_id": 1, "name": "a"}` {
		t.Errorf("a later Encode changed an earlier result: %q", first)
	}
}

// validated has a Validate method on its value.
type validated struct {
	Age int `json:"age"`
}

func (v validated) Validate() error {
	if v.Age < 0 {
		return errors.New("age must not be negative")
	}
	return nil
}

// ptrValidated has a Validate method on its pointer.
type ptrValidated struct {
	Email string `json:"email"`
}

func (v *ptrValidated) Validate() error {
	if !strings.Contains(v.Email, "@") {
		return errors.New("email needs an @")
	}
	return nil
}

// validName is a string type with a Validate method.
type validName string

func (n validName) Validate() error {
	if n == "" {
		return errors.New("empty name")
	}
	return nil
}

// decodeCase decodes data with JSON[T] and checks the value or the kind of
// error.
type decodeCase struct {
	name   string
	decode func() (any, error)
	want   any
	// fail is "" for success, "syntax" for data that is not of the format,
	// "validation" for data that does not make a valid T.
	fail string
}

func dec[T any](data string) func() (any, error) {
	return func() (any, error) { return codec.JSON[T](nil).Decode([]byte(data)) }
}

func decStrict[T any](data string) func() (any, error) {
	return func() (any, error) { return codec.JSON[T](&codec.JSONOptions{Strict: true}).Decode([]byte(data)) }
}

func decNoNaN[T any](data string) func() (any, error) {
	return func() (any, error) { return codec.JSON[T](&codec.JSONOptions{DisallowNaN: true}).Decode([]byte(data)) }
}

func ptr[T any](v T) *T { return &v }

func TestDecodeRules(t *testing.T) {
	two := 2
	cases := []decodeCase{
		{"string verbatim", dec[string](`"quoted"`), `"quoted"`, ""},
		{"string null is a string", dec[string]("null"), "null", ""},
		{"empty string", dec[string](""), "", ""},
		{"named string", dec[name]("ada"), name("ada"), ""},
		{"bytes", dec[[]byte]("\x00\xff"), []byte{0, 0xff}, ""},
		{"empty bytes are not nil", dec[[]byte](""), []byte{}, ""},
		{"named bytes", dec[blob]("x"), blob("x"), ""},
		{"int", dec[int]("5"), 5, ""},
		{"negative int16", dec[count]("-3"), count(-3), ""},
		{"int out of range", dec[int8]("300"), nil, "validation"},
		{"int not a number", dec[int]("five"), nil, "syntax"},
		{"int with a point", dec[int]("5.0"), nil, "syntax"},
		{"int empty", dec[int](""), nil, "syntax"},
		{"uint", dec[uint64]("18446744073709551615"), uint64(math.MaxUint64), ""},
		{"uint negative", dec[uint]("-1"), nil, "syntax"},
		{"float", dec[float64]("1.5"), 1.5, ""},
		{"float exponent", dec[float64]("1e+16"), 1e16, ""},
		{"float32", dec[ratio]("2.5"), ratio(2.5), ""},
		{"float Python inf", dec[float64]("-inf"), math.Inf(-1), ""},
		{"float32 out of range", dec[float32]("1e39"), nil, "validation"},
		{"float junk", dec[float64]("1.5x"), nil, "syntax"},
		{"bool", dec[bool]("true"), true, ""},
		{"bool Python str()", dec[flag]("False"), flag(false), ""},
		{"bool junk", dec[bool]("yes"), nil, "syntax"},
		{"struct", dec[pyUser](`{"user_id": 1, "name": "Alice"}`), pyUser{1, "Alice"}, ""},
		{"struct compact", dec[pyUser](`{"user_id":1,"name":"A"}`), pyUser{1, "A"}, ""},
		{"struct unknown field ignored", dec[pyUser](`{"user_id": 1, "x": 2}`), pyUser{UserID: 1}, ""},
		{"struct pointer", dec[*pyUser](`{"user_id": 1}`), &pyUser{UserID: 1}, ""},
		{"pointer to int", dec[*int]("2"), &two, ""},
		{"pointer to bad int", dec[*int]("x"), nil, "syntax"},
		{"map", dec[map[string]int](`{"a": 1}`), map[string]int{"a": 1}, ""},
		{"slice", dec[[]int](`[1, 2]`), []int{1, 2}, ""},
		{"any", dec[any](`{"a": [1, "x"]}`), map[string]any{"a": []any{json.Number("1"), "x"}}, ""},
		{"numbers in any keep their text", dec[[]any](`[2.0, 1e+16, 1e-05, -0.0, 18446744073709551616, 1E5]`),
			[]any{json.Number("2.0"), json.Number("1e+16"), json.Number("1e-05"), json.Number("-0.0"), json.Number("18446744073709551616"), json.Number("1E5")}, ""},
		{"numbers in a struct's any", dec[struct{ A any }](`{"A": {"n": 9223372036854775807}}`),
			struct{ A any }{map[string]any{"n": json.Number("9223372036854775807")}}, ""},
		{"numbers in a typed field stay typed", dec[struct {
			F float64
			A []any
		}](`{"F": 2.0, "A": [2.0]}`), struct {
			F float64
			A []any
		}{2, []any{json.Number("2.0")}}, ""},
		{"any is JSON, not verbatim", dec[any](`hello`), nil, "syntax"},
		{"bad JSON", dec[pyUser](`{"user_id": `), nil, "syntax"},
		{"not JSON", dec[pyUser](`hello`), nil, "syntax"},
		{"empty value", dec[pyUser](``), nil, "syntax"},
		{"trailing data", dec[pyUser](`{} {}`), nil, "syntax"},
		{"Infinity", dec[map[string]float64](`{"x": Infinity, "y": -Infinity}`), map[string]float64{"x": math.Inf(1), "y": math.Inf(-1)}, ""},
		{"Infinity in any", dec[any](`[Infinity, 1]`), []any{json.Number("Infinity"), json.Number("1")}, ""},
		{"Infinity refused", decNoNaN[map[string]float64](`{"x": Infinity}`), nil, "syntax"},
		{"top-level inf refused", decNoNaN[float64](`inf`), nil, "syntax"},
		{"finite floats pass DisallowNaN", decNoNaN[[]float64](`[1.0, 2]`), []float64{1, 2}, ""},
		{"Infinity in a string field", dec[map[string]string](`{"x": Infinity}`), nil, "validation"},
		{"Infinity in an int field", dec[struct{ N int }](`{"N": -Infinity}`), nil, "validation"},
		{"lowercase nan is not JSON", dec[map[string]float64](`{"x": nan}`), nil, "syntax"},
		{"NaN and bad JSON", dec[map[string]float64](`{"x": NaN,}`), nil, "syntax"},
		{"wrong type", dec[pyUser](`{"user_id": "one"}`), nil, "validation"},
		{"wrong shape", dec[pyUser](`[1]`), nil, "validation"},
		{"overflow inside JSON", dec[struct{ N int8 }](`{"N": 1000}`), nil, "validation"},
		{"null", dec[pyUser](`null`), nil, "validation"},
		{"null with spaces", dec[map[string]int](" null\n"), nil, "validation"},
		{"null into any", dec[any](`null`), nil, "validation"},
		{"null into pointer", dec[*pyUser](`null`), nil, "validation"},
		{"strict ok", decStrict[pyUser](`{"user_id": 1, "name": "A"}`), pyUser{1, "A"}, ""},
		{"strict unknown field", decStrict[pyUser](`{"user_id": 1, "extra": true}`), nil, "validation"},
		{"strict bad JSON", decStrict[pyUser](`{"user_id": 1,`), nil, "syntax"},
		{"strict trailing data", decStrict[pyUser](`{} []`), nil, "syntax"},
		{"strict wrong type", decStrict[pyUser](`{"name": 1}`), nil, "validation"},
		{"enum", dec[pyColor]("dark_blue"), pyDarkBlue, ""},
		{"enum any case", dec[pyColor]("DARK_Blue"), pyDarkBlue, ""},
		{"enum unknown", dec[pyColor]("purple"), nil, "validation"},
		{"enum in JSON", dec[pyProfile](`{"color": "GREEN"}`), pyProfile{Color: pyGreen}, ""},
		{"enum unknown in JSON", dec[pyProfile](`{"color": "purple"}`), nil, "validation"},
		{"time", dec[codec.Time]("2025-01-01T00:00:00+00:00"), ctime(2025, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"time junk", dec[codec.Time]("yesterday"), nil, "validation"},
		{"Validate ok", dec[validated](`{"age": 3}`), validated{3}, ""},
		{"Validate fails", dec[validated](`{"age": -1}`), nil, "validation"},
		{"Validate on pointer", dec[ptrValidated](`{"email": "a@b"}`), ptrValidated{"a@b"}, ""},
		{"Validate on pointer fails", dec[ptrValidated](`{"email": "ab"}`), nil, "validation"},
		{"Validate through T pointer", dec[*ptrValidated](`{"email": "ab"}`), nil, "validation"},
		{"Validate on a verbatim string", dec[validName](""), nil, "validation"},
		{"Validate slice elements is the caller's", dec[[]validated](`[{"age": -1}]`), []validated{{-1}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.decode()
			switch c.fail {
			case "":
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if !reflect.DeepEqual(got, c.want) {
					if gt, ok := got.(codec.Time); ok && sameTime(gt, c.want.(codec.Time)) {
						return
					}
					t.Fatalf("Decode = %#v, want %#v", got, c.want)
				}
			default:
				if err == nil {
					t.Fatalf("Decode = %#v, want a %s error", got, c.fail)
				}
				if v := errors.Is(err, codec.ErrValidation); v != (c.fail == "validation") {
					t.Fatalf("Decode error %v: errors.Is(_, ErrValidation) = %v, want a %s error", err, v, c.fail)
				}
				if got != nil && !reflect.ValueOf(got).IsZero() {
					t.Errorf("Decode returned %#v with its error, want the zero value", got)
				}
			}
		})
	}
}

// TestPythonStyle checks the JSON text against Python's json.dumps output.
func TestPythonStyle(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"separators", map[string][]int{"a": {1, 2}}, `{"a": [1, 2]}`},
		{"no HTML escaping", "<a&b>", `"<a&b>"`},
		{"ensure_ascii", "é", `"\u00e9"`},
		{"surrogate pair", "\U0001F680", `"\ud83d\ude80"`},
		{"DEL", "\x7f", `"\u007f"`},
		{"control characters", "\x00\x1f\b\f\n\r\t", `"\u0000\u001f\b\f\n\r\t"`},
		{"line separators", "\u2028\u2029", `"\u2028\u2029"`},
		{"quote and backslash", `"\`, `"\"\\"`},
		{"invalid UTF-8 from a raw message", json.RawMessage("\"\xff\""), `"\ufffd"`},
		{"raw message is spaced", json.RawMessage(`{ "a" : [ 1 , 2 ] }`), `{"a": [1, 2]}`},
		{"escaped quote before a separator", []string{`a"`, `,`}, `["a\"", ","]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := codec.JSON[[]any](nil).Encode([]any{c.in})
			want := "[" + c.want + "]"
			if err != nil || string(got) != want {
				t.Fatalf("Encode = %s, %v; want %s", got, err, want)
			}
		})
	}
}

// roundTrip checks that v encodes and decodes back to itself.
func roundTrip[T any](t *testing.T, v T) {
	t.Helper()
	c := codec.JSON[T](nil)
	b, err := c.Encode(v)
	if err != nil {
		t.Errorf("Encode(%#v): %v", v, err)
		return
	}
	got, err := c.Decode(b)
	if err != nil || !reflect.DeepEqual(got, v) {
		t.Errorf("round trip of %#v through %q = %#v, %v", v, b, got, err)
	}
}

func TestRoundTrip(t *testing.T) {
	roundTrip(t, "")
	roundTrip(t, "x")
	roundTrip(t, name("n"))
	roundTrip(t, []byte{})
	roundTrip(t, []byte("\x00\x01"))
	roundTrip(t, 0)
	roundTrip(t, math.MinInt64)
	roundTrip(t, uint8(7))
	roundTrip(t, 0.1)
	roundTrip(t, -2.5e-300)
	roundTrip(t, math.MaxFloat64)
	roundTrip(t, float32(3.25))
	roundTrip(t, float32(math.SmallestNonzeroFloat32))
	roundTrip(t, true)
	roundTrip(t, pyUser{1, pyUnicodeName})
	roundTrip(t, []pyUser{{1, "a"}})
	roundTrip(t, &pyUser{2, "b"})
	roundTrip(t, map[string]int{"a": 1})
	roundTrip(t, triple{1, 2, 3})
	roundTrip(t, pyRed)
	roundTrip(t, []pyColor{pyRed, pyDarkBlue})
	roundTrip(t, map[pyColor]int{pyGreen: 1})
	roundTrip(t, map[string]any{"a": []any{json.Number("1.0"), "x", nil, true, map[string]any{"b": json.Number("0.5")}}})
	roundTrip(t, map[string]any{"big": json.Number("18446744073709551616"), "inf": json.Number("-Infinity")})
	roundTrip(t, []float64{2, 1e16, 1e-5, math.Inf(1), math.MaxFloat64, math.SmallestNonzeroFloat64})
	roundTrip(t, []float32{2, 1e16, 1e-5, float32(math.Inf(-1)), math.MaxFloat32, math.SmallestNonzeroFloat32})
}
