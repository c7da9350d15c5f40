package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Naive is the location of naive times: a Python datetime without tzinfo,
// written by isoformat without an offset ("2025-01-01T00:00:00"). A [Time]
// in this location is written the same way, and a time read without an
// offset is put in it. Its offset is zero, so a naive time is the instant of
// its wall clock read as UTC. Compare locations with ==; do not reassign
// Naive.
var Naive = time.FixedZone("naive", 0)

// A Time is a time.Time that is written in the style of Python's
// datetime.isoformat(), as the Python original's CustomEncoder writes it:
//
//	2025-01-01T12:30:00+00:00         UTC: the offset +00:00, never Z
//	2025-01-01T12:30:00.123456+02:00  microseconds only when they are not zero
//	2025-01-01T12:30:00               a naive time (location [Naive])
//
// The precision is the microsecond, as in Python: digits beyond it are
// dropped, not rounded. Years must lie in 1..9999.
//
// Reading accepts isoformat with or without an offset, with 1 to 9
// fractional digits, a 'T', 't' or ' ' between date and time, seconds
// optional, a date alone (midnight), and RFC 3339 ("Z" or "z" for UTC); an
// offset of zero gives a time in time.UTC, another a fixed zone, none the
// Naive location.
//
// Time implements encoding.TextMarshaler and json.Marshaler (and their
// Unmarshalers): as a struct field it is a JSON string, and as a [Store]'s
// value its text is stored verbatim. The embedded time.Time brings its
// methods along.
type Time struct {
	time.Time
}

// MarshalText returns t in isoformat.
func (t Time) MarshalText() ([]byte, error) {
	return t.appendISO(make([]byte, 0, len("2006-01-02T15:04:05.000000+07:00")))
}

// MarshalJSON returns t in isoformat as a JSON string.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(`"2006-01-02T15:04:05.000000+07:00"`))
	b = append(b, '"')
	b, err := t.appendISO(b)
	if err != nil {
		return nil, err
	}
	return append(b, '"'), nil
}

// UnmarshalText sets t from isoformat or RFC 3339 text.
func (t *Time) UnmarshalText(text []byte) error {
	v, err := parseISO(text)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// UnmarshalJSON sets t from a JSON string holding isoformat or RFC 3339
// text. A JSON null leaves t unchanged.
func (t *Time) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return errors.New("codec: a time must be a JSON string")
	}
	text := data[1 : len(data)-1]
	if bytes.IndexByte(text, '\\') >= 0 {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		text = []byte(s)
	}
	return t.UnmarshalText(text)
}

// appendISO appends t in isoformat to b.
func (t Time) appendISO(b []byte) ([]byte, error) {
	year, month, day := t.Date()
	if year < 1 || year > 9999 {
		return nil, fmt.Errorf("codec: year %d of a time is outside 1..9999", year)
	}
	hour, minute, sec := t.Clock()
	b = append4(b, year)
	b = append(b, '-')
	b = append2(b, int(month))
	b = append(b, '-')
	b = append2(b, day)
	b = append(b, 'T')
	b = append2(b, hour)
	b = append(b, ':')
	b = append2(b, minute)
	b = append(b, ':')
	b = append2(b, sec)
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = append2(b, us/10000)
		b = append2(b, us/100%100)
		b = append2(b, us%100)
	}
	if t.Location() == Naive {
		return b, nil
	}
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = append2(b, off/3600)
	b = append(b, ':')
	b = append2(b, off/60%60)
	if s := off % 60; s != 0 {
		b = append(b, ':')
		b = append2(b, s)
	}
	return b, nil
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
func append4(b []byte, n int) []byte { return append2(append2(b, n/100), n%100) }

// errTimeSyntax is the error of text that is not a time in a known layout.
var errTimeSyntax = errors.New("codec: not an isoformat or RFC 3339 time")

// parseISO parses a time in Python's isoformat or RFC 3339.
func parseISO(s []byte) (time.Time, error) {
	p := isoParser{s: s}
	year := p.digits(4)
	month := p.after('-', 2)
	day := p.after('-', 2)
	var hour, minute, sec, nsec int
	if p.more() {
		if c := p.s[p.i]; c == 'T' || c == 't' || c == ' ' {
			p.i++
		} else {
			p.fail()
		}
		hour = p.digits(2)
		minute = p.after(':', 2)
		if p.peek(':') {
			sec = p.after(':', 2)
			if p.peek('.') || p.peek(',') {
				p.i++
				nsec = p.fraction()
			}
		}
	}
	loc := Naive
	if p.more() {
		switch c := p.s[p.i]; c {
		case 'Z', 'z':
			p.i++
			loc = time.UTC
		case '+', '-':
			p.i++
			oh, om, os := p.digits(2), 0, 0
			if p.peek(':') {
				om = p.after(':', 2)
				if p.peek(':') {
					os = p.after(':', 2)
				}
			} else {
				om = p.digits(2)
			}
			if oh > 23 || om > 59 || os > 59 {
				p.fail()
			}
			off := oh*3600 + om*60 + os
			if c == '-' {
				off = -off
			}
			if off == 0 {
				loc = time.UTC
			} else {
				loc = time.FixedZone("", off)
			}
		default:
			p.fail()
		}
	}
	if p.bad || p.more() {
		return time.Time{}, errTimeSyntax
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, errors.New("codec: time field out of range")
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), nil
}

// daysIn returns the number of days in month of year.
func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// An isoParser reads fixed-width fields; after the first mismatch it sets
// bad and reads nothing more.
type isoParser struct {
	s   []byte
	i   int
	bad bool
}

func (p *isoParser) more() bool { return !p.bad && p.i < len(p.s) }

func (p *isoParser) fail() { p.bad = true }

// peek reports whether the next byte is c.
func (p *isoParser) peek(c byte) bool { return p.more() && p.s[p.i] == c }

// digits reads an n-digit decimal number.
func (p *isoParser) digits(n int) int {
	if p.bad || p.i+n > len(p.s) {
		p.fail()
		return 0
	}
	v := 0
	for _, c := range p.s[p.i : p.i+n] {
		if c < '0' || c > '9' {
			p.fail()
			return 0
		}
		v = v*10 + int(c-'0')
	}
	p.i += n
	return v
}

// after reads the separator sep and an n-digit number.
func (p *isoParser) after(sep byte, n int) int {
	if !p.peek(sep) {
		p.fail()
		return 0
	}
	p.i++
	return p.digits(n)
}

// fraction reads 1 to 9 fractional digits and returns them as nanoseconds.
func (p *isoParser) fraction() int {
	v, n := 0, 0
	for ; p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9'; p.i++ {
		if n == 9 {
			p.fail()
			return 0
		}
		v = v*10 + int(p.s[p.i]-'0')
		n++
	}
	if n == 0 {
		p.fail()
		return 0
	}
	for ; n < 9; n++ {
		v *= 10
	}
	return v
}
