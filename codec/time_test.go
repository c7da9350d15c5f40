package codec_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cledar/storekit/codec"
)

func TestTimeFormat(t *testing.T) {
	cases := []struct {
		t    codec.Time
		want string
	}{
		{ctime(2025, 1, 1, 0, 0, 0, 0, time.UTC), "2025-01-01T00:00:00+00:00"},
		{ctime(2025, 1, 1, 0, 0, 0, 0, codec.Naive), "2025-01-01T00:00:00"},
		{ctime(2025, 1, 2, 3, 4, 5, 123456000, time.UTC), "2025-01-02T03:04:05.123456+00:00"},
		{ctime(2025, 1, 2, 3, 4, 5, 500000000, plus2), "2025-01-02T03:04:05.500000+02:00"},
		{ctime(2025, 1, 2, 3, 4, 5, 1000, minus0530), "2025-01-02T03:04:05.000001-05:30"},
		// Python has microseconds: the rest is dropped, not rounded.
		{ctime(2025, 1, 2, 3, 4, 5, 999, time.UTC), "2025-01-02T03:04:05+00:00"},
		{ctime(2025, 1, 2, 3, 4, 5, 1999, time.UTC), "2025-01-02T03:04:05.000001+00:00"},
		{ctime(2025, 1, 2, 3, 4, 5, 999999999, codec.Naive), "2025-01-02T03:04:05.999999"},
		// An offset with seconds, as Python writes it.
		{ctime(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("LMT", 5*3600+21*60+10)), "1900-01-01T00:00:00+05:21:10"},
		{ctime(1, 1, 1, 0, 0, 0, 0, codec.Naive), "0001-01-01T00:00:00"},
		{ctime(9999, 12, 31, 23, 59, 59, 0, time.UTC), "9999-12-31T23:59:59+00:00"},
		// The zero time.Time is UTC.
		{codec.Time{}, "0001-01-01T00:00:00+00:00"},
	}
	for _, c := range cases {
		got, err := c.t.MarshalText()
		if err != nil || string(got) != c.want {
			t.Errorf("MarshalText(%v) = %q, %v; want %q", c.t, got, err, c.want)
		}
		j, err := c.t.MarshalJSON()
		if err != nil || string(j) != `"`+c.want+`"` {
			t.Errorf("MarshalJSON(%v) = %s, %v", c.t, j, err)
		}
	}
	for _, year := range []int{0, 10000} {
		if b, err := ctime(year, 1, 1, 0, 0, 0, 0, time.UTC).MarshalText(); err == nil {
			t.Errorf("year %d: %q, want an error", year, b)
		}
		if b, err := ctime(year, 1, 1, 0, 0, 0, 0, time.UTC).MarshalJSON(); err == nil {
			t.Errorf("year %d: %q, want an error", year, b)
		}
	}
}

func TestTimeParse(t *testing.T) {
	cases := []struct {
		in   string
		want codec.Time
	}{
		// Python's isoformat.
		{"2025-01-01T00:00:00", ctime(2025, 1, 1, 0, 0, 0, 0, codec.Naive)},
		{"2025-01-01T00:00:00+00:00", ctime(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2025-01-01T00:00:00-00:00", ctime(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2025-01-02T03:04:05.123456+02:00", ctime(2025, 1, 2, 3, 4, 5, 123456000, plus2)},
		{"2025-01-02T03:04:05.000001-05:30", ctime(2025, 1, 2, 3, 4, 5, 1000, minus0530)},
		{"1900-01-01T00:00:00+05:21:10", ctime(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+21*60+10))},
		// Python's str() and other isoformat variants.
		{"2025-01-02 03:04:05", ctime(2025, 1, 2, 3, 4, 5, 0, codec.Naive)},
		{"2025-01-02T03:04", ctime(2025, 1, 2, 3, 4, 0, 0, codec.Naive)},
		{"2025-01-02", ctime(2025, 1, 2, 0, 0, 0, 0, codec.Naive)},
		{"2025-01-02T03:04:05.1", ctime(2025, 1, 2, 3, 4, 5, 100000000, codec.Naive)},
		{"2025-01-02T03:04:05,5", ctime(2025, 1, 2, 3, 4, 5, 500000000, codec.Naive)},
		{"2025-01-02T03:04:05+0200", ctime(2025, 1, 2, 3, 4, 5, 0, plus2)},
		// RFC 3339.
		{"2025-01-02T03:04:05Z", ctime(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2025-01-02t03:04:05.123456789z", ctime(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)},
		{"2024-02-29T00:00:00Z", ctime(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		var got codec.Time
		if err := got.UnmarshalText([]byte(c.in)); err != nil || !sameTime(got, c.want) {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if (got.Location() == time.UTC) != (c.want.Location() == time.UTC) {
			t.Errorf("UnmarshalText(%q): location %v, want %v", c.in, got.Location(), c.want.Location())
		}
	}
	for _, in := range []string{
		"", "2025", "2025-1-01", "2025-01-01T", "2025-01-01T00", "2025-01-01T00:00:", "2025-01-01X00:00:00",
		"2025-13-01", "2025-00-01", "2025-02-30", "2023-02-29", "2025-01-00", "2025-01-01T24:00:00",
		"2025-01-01T00:60:00", "2025-01-01T00:00:60", "2025-01-01T00:00:00.", "2025-01-01T00:00:00.1234567890",
		"2025-01-01T00:00:00+24:00", "2025-01-01T00:00:00+01:60", "2025-01-01T00:00:00+1", "2025-01-01T00:00:00 ",
		"2025-01-01T00:00:00ZZ", "0000-01-01T00:00:00", "２０２５-01-01", "-2025-01-01",
	} {
		var got codec.Time
		if err := got.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("UnmarshalText(%q) = %v, want an error", in, got)
		}
	}
}

func TestTimeJSON(t *testing.T) {
	type event struct {
		At   codec.Time  `json:"at"`
		Opt  *codec.Time `json:"opt"`
		Plan time.Time   `json:"plan"` // a plain time.Time keeps Go's RFC 3339
	}
	e := event{At: ctime(2025, 1, 1, 0, 0, 0, 0, time.UTC), Plan: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, err := codec.JSON[event](nil).Encode(e)
	if want := `{"at": "2025-01-01T00:00:00+00:00", "opt": null, "plan": "2025-01-01T00:00:00Z"}`; err != nil || string(b) != want {
		t.Errorf("Encode = %s, %v; want %s", b, err, want)
	}
	var back event
	if err := json.Unmarshal(b, &back); err != nil || !sameTime(back.At, e.At) || back.Opt != nil {
		t.Errorf("Unmarshal = %+v, %v", back, err)
	}
	for _, in := range []string{`{"at": 5}`, `{"at": "soon"}`, `{"at": ""}`} {
		if err := json.Unmarshal([]byte(in), &back); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, want an error", in, back)
		}
	}
	// null leaves the time as it is, as for time.Time.
	back.At = e.At
	if err := json.Unmarshal([]byte(`{"at": null}`), &back); err != nil || !sameTime(back.At, e.At) {
		t.Errorf("Unmarshal null = %v, %v", back.At, err)
	}
	if err := back.At.UnmarshalJSON([]byte(`"\u0032025-01-01T00:00:00Z"`)); err != nil || back.At.Year() != 2025 {
		t.Errorf("UnmarshalJSON of an escaped string = %v, %v", back.At, err)
	}
	if err := back.At.UnmarshalJSON([]byte(`"2025`)); err == nil || !strings.Contains(err.Error(), "codec:") {
		t.Errorf("UnmarshalJSON of a broken string: %v", err)
	}
}

// TestTimeNaive checks that naive times keep their wall clock and stay
// naive through a round trip.
func TestTimeNaive(t *testing.T) {
	n := ctime(2025, 6, 30, 23, 59, 59, 0, codec.Naive)
	b, _ := n.MarshalText()
	var back codec.Time
	if err := back.UnmarshalText(b); err != nil || back.Location() != codec.Naive || !back.Equal(n.Time) {
		t.Errorf("round trip of %v = %v (%v), %v", n, back, back.Location(), err)
	}
	if h, m, s := back.Clock(); h != 23 || m != 59 || s != 59 {
		t.Errorf("wall clock %d:%d:%d", h, m, s)
	}
}
