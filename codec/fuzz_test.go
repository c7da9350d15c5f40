package codec_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cledar/storekit/codec"
)

// stable checks, for data that c decodes, that encoding is a fixed point:
// encode(decode(data)) decodes and encodes to the same bytes. Nothing may
// panic, whatever data holds. refusable says that a decoded value may fail
// to encode (a struct whose zero enum field is not a member).
func stable[T any](t *testing.T, c codec.Codec[T], data []byte, refusable bool) {
	v, err := c.Decode(data)
	if err != nil {
		return
	}
	b1, err := c.Encode(v)
	if err != nil {
		if refusable {
			return
		}
		t.Fatalf("Encode(Decode(%q)) = %v", data, err)
	}
	v2, err := c.Decode(b1)
	if err != nil {
		t.Fatalf("Decode(%q), written by Encode: %v", b1, err)
	}
	b2, err := c.Encode(v2)
	if err != nil || !bytes.Equal(b1, b2) {
		t.Fatalf("encoding is not stable: %q then %q (%v)", b1, b2, err)
	}
}

// FuzzDecode feeds arbitrary stored values to the decoders of many types.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.value"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "null", "5", "-0", "1e999", "nan", "true", `"x"`, "[", `{"a":`, "\xff",
		"2025-01-01T00:00:00+00:00", `{"created": "2025-01-01T00:00:00.1234567Z", "color": "RED"}`,
		`{"score": NaN, "attrs": {"x": [Infinity, -Infinity, 1.0]}, "tags": ["a"]}`, `[NaN]`, `{"at": Infinity}`} {
		f.Add([]byte(s))
	}
	strict := codec.JSON[pyProfile](&codec.JSONOptions{Strict: true})
	f.Fuzz(func(t *testing.T, data []byte) {
		stable(t, codec.JSON[pyProfile](nil), data, true)
		stable(t, strict, data, true)
		stable(t, codec.JSON[[]pyEvent](nil), data, false)
		stable(t, codec.JSON[map[string]any](nil), data, false)
		stable(t, codec.JSON[int64](nil), data, false)
		stable(t, codec.JSON[uint8](nil), data, false)
		stable(t, codec.JSON[float64](nil), data, false)
		stable(t, codec.JSON[float32](nil), data, false)
		stable(t, codec.JSON[bool](nil), data, false)
		stable(t, codec.JSON[string](nil), data, false)
		stable(t, codec.JSON[[]byte](nil), data, false)
		stable(t, codec.JSON[*validated](nil), data, false)
		stable(t, codec.JSON[codec.Time](nil), data, false)
		stable(t, codec.JSON[pyColor](nil), data, false)
		// An interface is read as JSON, but a string in it is written
		// verbatim, as the original does: only check nothing panics.
		if v, err := codec.JSON[any](nil).Decode(data); err == nil {
			_, _ = codec.JSON[any](nil).Encode(v)
		}
	})
}

// FuzzJSONRoundTrip checks the Python-style JSON of arbitrary strings and
// numbers: it is ASCII, valid JSON when it holds no NaN or infinity, and
// decodes to what encoding/json's own round trip gives, but for the numbers
// in an interface, which are json.Numbers holding the exact number written.
func FuzzJSONRoundTrip(f *testing.F) {
	f.Add("Alice", "k", int64(1), 1.5)
	f.Add("zażółć \U0001F680 \x00\x7f\u2028<>&\"\\,:", "a,b:c", int64(math.MinInt64), 1e16)
	f.Add("\xff\xfe", "\xed\xa0\x80", int64(0), math.Copysign(0, -1))
	f.Add("", "", int64(2), math.Inf(-1))
	f.Add("", "", int64(2), math.NaN())
	type doc struct {
		S string            `json:"s"`
		M map[string]string `json:"m"`
		L []any             `json:"l"`
		N int64             `json:"n"`
		F float64           `json:"f"`
	}
	c := codec.JSON[doc](nil)
	noNaN := codec.JSON[doc](&codec.JSONOptions{DisallowNaN: true})
	f.Fuzz(func(t *testing.T, s, k string, n int64, x float64) {
		v := doc{S: s, M: map[string]string{k: s, s: k}, L: []any{s, x, n, nil}, N: n, F: x}
		b, err := c.Encode(v)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		for _, c := range b {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("Encode = %q: byte %#x outside printable ASCII", b, c)
			}
		}
		finite := !math.IsNaN(x) && !math.IsInf(x, 0)
		if _, err := noNaN.Encode(v); finite != (err == nil) {
			t.Fatalf("Encode with DisallowNaN, F=%v: %v", x, err)
		}
		if json.Valid(b) != finite {
			t.Fatalf("Encode = %q: json.Valid is %v for F=%v", b, !finite, x)
		}
		got, err := c.Decode(b)
		if err != nil {
			t.Fatalf("Decode(%q): %v", b, err)
		}
		// The float in the interface is Python's repr, read back exactly.
		num, ok := got.L[1].(json.Number)
		back, perr := strconv.ParseFloat(string(num), 64)
		if !ok || perr != nil || math.Float64bits(back) != math.Float64bits(x) && !(math.IsNaN(x) && math.IsNaN(back)) {
			t.Fatalf("Decode(%q): l[1] = %#v, want a json.Number of %v", b, got.L[1], x)
		}
		if want := json.Number(strconv.FormatInt(n, 10)); got.L[2] != want {
			t.Fatalf("Decode(%q): l[2] = %#v, want %#v", b, got.L[2], want)
		}
		if math.Float64bits(got.F) != math.Float64bits(x) && !(math.IsNaN(x) && math.IsNaN(got.F)) {
			t.Fatalf("Decode(%q): f = %v, want %v", b, got.F, x)
		}
		v.F, v.L, got.F, got.L = 0, nil, 0, nil
		std, _ := json.Marshal(v)
		var want doc
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip of %q = %#v, encoding/json gives %#v", b, got, want)
		}
	})
}

// rfc3339 matches the syntax of RFC 3339 (time.Parse is more lenient).
var rfc3339 = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$`)

// FuzzTime checks that any time read is written and read back unchanged,
// and that RFC 3339 accepted by the time package is read alike.
func FuzzTime(f *testing.F) {
	for _, s := range []string{"2025-01-01T00:00:00", "2025-01-02T03:04:05.123456+02:00", "2025-01-02 03:04",
		"2025-01-02T03:04:05.999999999Z", "0001-01-01", "9999-12-31T23:59:59.9-23:59", "2025-01-01T00:00:00+05:21:10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got codec.Time
		err := got.UnmarshalText([]byte(s))
		if std, serr := time.Parse(time.RFC3339Nano, s); serr == nil && rfc3339.MatchString(s) && std.Year() >= 1 {
			if err != nil || !got.Equal(std) {
				t.Fatalf("%q: read %v, %v; the time package reads %v", s, got, err, std)
			}
		}
		if err != nil {
			return
		}
		text, err := got.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%v) after reading %q: %v", got, s, err)
		}
		var back codec.Time
		if err := back.UnmarshalText(text); err != nil || !sameTime(back, codec.Time{Time: got.Truncate(time.Microsecond)}) {
			t.Fatalf("%q → %q → %v, %v", s, text, back, err)
		}
	})
}

// FuzzPyFloat checks that every float64 is written in Python's repr form and
// read back exactly.
func FuzzPyFloat(f *testing.F) {
	for _, x := range []float64{0, 1, 1.5, 1e16, 1e-5, 5e-324, math.MaxFloat64, math.Inf(-1), math.NaN()} {
		f.Add(math.Float64bits(x))
	}
	c := codec.JSON[float64](nil)
	f.Fuzz(func(t *testing.T, bits uint64) {
		x := math.Float64frombits(bits)
		b, err := c.Encode(x)
		if err != nil {
			t.Fatal(err)
		}
		back, err := strconv.ParseFloat(string(b), 64)
		if err != nil || (math.Float64bits(back) != bits && !(math.IsNaN(x) && math.IsNaN(back))) {
			t.Fatalf("Encode(%v) = %q, read back as %v, %v", x, b, back, err)
		}
		if !math.IsNaN(x) && !math.IsInf(x, 0) && !bytes.ContainsAny(b, ".e") {
			t.Fatalf("Encode(%v) = %q: Python's repr always has a point or an exponent", x, b)
		}
	})
}
