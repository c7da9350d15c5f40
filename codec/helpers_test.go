package codec_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/kv"
)

// TestMain fails the package's tests if any goroutine outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newMemory returns a memory store closed when t ends.
func newMemory(t testing.TB) *memory.Store {
	t.Helper()
	s := memory.New(nil)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// The Go side of the models of testdata/python/make_fixtures.py.

type pyColor int

const (
	pyRed pyColor = iota + 1
	pyGreen
	pyDarkBlue
)

var pyColors = codec.NewEnum(map[pyColor]string{pyRed: "RED", pyGreen: "GREEN", pyDarkBlue: "DARK_BLUE"})

func (c pyColor) MarshalText() ([]byte, error)     { return pyColors.Marshal(c) }
func (c *pyColor) UnmarshalText(text []byte) error { return pyColors.Unmarshal(text, c) }

type pyStatus int

const (
	pyActive pyStatus = iota + 1
	pySuspended
)

var pyStatuses = codec.NewEnum(map[pyStatus]string{pyActive: "ACTIVE", pySuspended: "SUSPENDED"})

func (s pyStatus) MarshalText() ([]byte, error)     { return pyStatuses.Marshal(s) }
func (s *pyStatus) UnmarshalText(text []byte) error { return pyStatuses.Unmarshal(text, s) }

// pyPriority mirrors a Python IntEnum, which Python writes as its number.
type pyPriority int

const (
	pyLow  pyPriority = 1
	pyHigh pyPriority = 2
)

type pyUser struct {
	UserID int    `json:"user_id"`
	Name   string `json:"name"`
}

type pyProfile struct {
	UserID   int            `json:"user_id"`
	Name     string         `json:"name"`
	Color    pyColor        `json:"color"`
	Status   pyStatus       `json:"status"`
	Priority pyPriority     `json:"priority"`
	Created  codec.Time     `json:"created"`
	Updated  codec.Time     `json:"updated"`
	Tags     []string       `json:"tags"`
	Attrs    map[string]any `json:"attrs"`
	Score    float64        `json:"score"`
	Nickname *string        `json:"nickname"`
}

type pyEvent struct {
	At   codec.Time `json:"at"`
	What string     `json:"what"`
}

var (
	plus2     = time.FixedZone("", 2*3600)
	minus0530 = time.FixedZone("", -(5*3600 + 30*60))
	plus0530  = time.FixedZone("", 5*3600+30*60)
)

func ctime(year int, month time.Month, day, hour, minute, sec, nsec int, loc *time.Location) codec.Time {
	return codec.Time{Time: time.Date(year, month, day, hour, minute, sec, nsec, loc)}
}

// pyProfileValue is PROFILE of make_fixtures.py.
func pyProfileValue() pyProfile {
	return pyProfile{
		UserID:   42,
		Name:     "Ada",
		Color:    pyDarkBlue,
		Status:   pyActive,
		Priority: pyHigh,
		Created:  ctime(2025, 1, 2, 3, 4, 5, 123456000, time.UTC),
		Updated:  ctime(2025, 6, 30, 23, 59, 59, 0, codec.Naive),
		Tags:     []string{"admin", "ops"},
		// Numbers read into an interface are json.Numbers.
		Attrs: map[string]any{
			"flags":  []any{true, false, nil},
			"level":  json.Number("3"),
			"nested": map[string]any{"k": "v"},
			"ratio":  json.Number("0.25"),
		},
		Score: 2.5,
	}
}

// pyEvents is EVENTS of make_fixtures.py.
func pyEvents() []pyEvent {
	return []pyEvent{
		{ctime(2025, 1, 1, 0, 0, 0, 0, time.UTC), "utc"},
		{ctime(2025, 1, 1, 12, 30, 0, 500000000, plus2), "plus two"},
		{ctime(2024, 2, 29, 8, 15, 30, 1000, minus0530), "leap day"},
		{ctime(1, 1, 1, 0, 0, 0, 0, codec.Naive), "min naive"},
		{ctime(9999, 12, 31, 23, 59, 59, 999999000, codec.Naive), "max naive"},
	}
}

const pyUnicodeName = "Zażółć gęślą jaźń \U0001F680 \"q\" \\ \t\n\r\b\f \x00\x1f\x7f <>& \u2028\u2029 \ufeff\uffff"

// sameTime reports whether a and b are the same instant with the same
// offset, both naive or both aware.
func sameTime(a, b codec.Time) bool {
	_, ao := a.Zone()
	_, bo := b.Zone()
	return a.Equal(b.Time) && ao == bo && (a.Location() == codec.Naive) == (b.Location() == codec.Naive)
}

// A countingStore counts the calls that reach a kv.Store, and can make them
// fail.
type countingStore struct {
	kv.Store
	calls atomic.Int64
	fail  error // returned by every call when set
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	c.calls.Add(1)
	if c.fail != nil {
		return nil, c.fail
	}
	return c.Store.Get(ctx, key)
}

func (c *countingStore) Set(ctx context.Context, key string, value []byte) error {
	c.calls.Add(1)
	if c.fail != nil {
		return c.fail
	}
	return c.Store.Set(ctx, key, value)
}

func (c *countingStore) Delete(ctx context.Context, key string) (bool, error) {
	c.calls.Add(1)
	if c.fail != nil {
		return false, c.fail
	}
	return c.Store.Delete(ctx, key)
}

// asError is errors.As for a pointer error type, failing t when err is not
// one.
func asError[E error](t testing.TB, err error) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T): want a %T", err, err, e)
	}
	return e
}
