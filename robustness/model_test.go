package robustness

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

// TestModelRules checks the model on rules of kv/doc.go whose reading is
// easy to get wrong, each as a short sequence and the outcome of its last
// step.
func TestModelRules(t *testing.T) {
	for _, c := range []struct {
		name string
		seq  []step
		want outcome
	}{
		{"PruneStopsAtEmptyEntry", []step{
			{Kind: kAppend, Key: "h", Value: []byte("1")}, {Kind: kAppend, Key: "h", Value: []byte("")},
			{Kind: kAppend, Key: "h", Value: []byte("3")}, {Kind: kAppend, Key: "h", Value: []byte("4")},
			{Kind: kPrune, Key: "h", N: 9},
		}, outcome{Int: 1}},
		{"PruneNeverTheNewest", []step{
			{Kind: kAppend, Key: "h", Value: []byte("1")}, {Kind: kPrune, Key: "h", N: 5},
		}, outcome{}},
		{"PrunePlainValue", []step{{Kind: kSet, Key: "a", Value: []byte("1")}, {Kind: kPrune, Key: "a", N: 2}}, outcome{}},
		{"AppendIfConflictOnPlain", []step{
			{Kind: kSet, Key: "a", Value: []byte("1")}, {Kind: kAppendIf, Key: "a", Value: []byte("2"), N: 0},
		}, outcome{Err: "ErrConflict", Conflict: 1}},
		{"AppendIfConvertsPlain", []step{
			{Kind: kSet, Key: "a", Value: []byte("1")}, {Kind: kAppendIf, Key: "a", Value: []byte("2"), N: 1},
		}, outcome{Int: 2}},
		{"AppendConversionDropsExpiry", []step{
			{Kind: kSetWithTTL, Key: "a", Value: []byte("1"), TTL: time.Second}, {Kind: kAppend, Key: "a", Value: []byte("2")},
			{Kind: kTTL, Key: "a"},
		}, outcome{TTL: kv.NoExpiry}},
		{"AppendToHistoryKeepsExpiry", []step{
			{Kind: kAppend, Key: "h", Value: []byte("1")}, {Kind: kExpire, Key: "h", TTL: time.Second},
			{Kind: kAppend, Key: "h", Value: []byte("2")}, {Kind: kSleep, TTL: 400 * time.Millisecond}, {Kind: kTTL, Key: "h"},
		}, outcome{TTL: 600 * time.Millisecond}},
		{"IncrOverflowKeepsValue", []step{
			{Kind: kSet, Key: "a", Value: []byte("9223372036854775807")}, {Kind: kIncr, Key: "a", N: 1}, {Kind: kGet, Key: "a"},
		}, outcome{Value: []byte("9223372036854775807")}},
		{"IncrOverflow", []step{{Kind: kIncr, Key: "a", N: math.MinInt64}, {Kind: kIncr, Key: "a", N: -1}}, outcome{Err: "ErrInvalid"}},
		{"IncrNotCounter", []step{{Kind: kSet, Key: "a", Value: []byte("01")}, {Kind: kIncr, Key: "a", N: 1}}, outcome{Err: "ErrWrongType"}},
		{"IncrKeepsExpiry", []step{
			{Kind: kSetWithTTL, Key: "a", Value: []byte("1"), TTL: time.Second}, {Kind: kIncr, Key: "a", N: 1}, {Kind: kTTL, Key: "a"},
		}, outcome{TTL: time.Second}},
		{"CASKeepTTL", []step{
			{Kind: kSetWithTTL, Key: "a", Value: []byte("1"), TTL: time.Second},
			{Kind: kCompareAndSwap, Key: "a", Old: []byte("1"), Value: []byte("2")}, {Kind: kTTL, Key: "a"},
		}, outcome{TTL: time.Second}},
		{"CASEmptyIsNotMissing", []step{
			{Kind: kSet, Key: "a", Value: []byte{}}, {Kind: kCompareAndSwap, Key: "a", Old: []byte{}, Value: []byte("2")},
		}, outcome{Bool: true}},
		{"SetIfAbsentOnHistory", []step{
			{Kind: kAppend, Key: "h", Value: []byte("1")}, {Kind: kSetIfAbsent, Key: "h", Value: []byte("2")},
		}, outcome{}},
		{"ExpiredKeyIsMissing", []step{
			{Kind: kSetWithTTL, Key: "a", Value: []byte("1"), TTL: time.Second}, {Kind: kSleep, TTL: time.Second},
			{Kind: kSetIfAbsent, Key: "a", Value: []byte("2")},
		}, outcome{Bool: true}},
		{"AtOfPlain", []step{{Kind: kSet, Key: "a", Value: []byte("1")}, {Kind: kAt, Key: "a", N: 2}}, outcome{Err: "ErrNotFound"}},
		{"AtBelowOne", []step{{Kind: kAt, Key: "missing", N: 0}}, outcome{Err: "ErrInvalid"}},
		{"DeleteMultiCountsOnce", []step{
			{Kind: kSet, Key: "a", Value: []byte("1")}, {Kind: kDeleteMulti, Keys: []string{"a", "a", "b"}},
		}, outcome{Int: 1}},
		{"SetMultiNegativeTTLWritesNothing", []step{
			{Kind: kSetMulti, Items: []item{{Key: "a", Value: []byte("1")}, {Key: "b", TTL: -1}}}, {Kind: kGet, Key: "a"},
		}, outcome{Err: "ErrNotFound"}},
		{"ScanStarMatchesGlobKeys", []step{
			{Kind: kSet, Key: "*", Value: []byte("1")}, {Kind: kSet, Key: "", Value: []byte("1")}, {Kind: kScan, Pattern: `\*`},
		}, outcome{Keys: []string{"*"}}},
	} {
		m := newRefModel("p:")
		var got outcome
		for _, s := range c.seq {
			got = m.apply(s)
		}
		last := c.seq[len(c.seq)-1]
		if d := compareOutcome(last.Kind, got, c.want, ttlWindow{}); d != "" {
			t.Errorf("%s: %v: %s", c.name, last, d)
		}
	}
}

// TestModelEvents checks the events the model wants for writes whose
// events the contract spells out.
func TestModelEvents(t *testing.T) {
	m := newRefModel("p:")
	for _, s := range []step{
		{Kind: kSetWithTTL, Key: "a", Value: []byte("1"), TTL: time.Second},                                                // set expire
		{Kind: kAppend, Key: "a", Value: []byte("2")},                                                                      // delete append
		{Kind: kSetMulti, Items: []item{{Key: "b", Value: []byte("1")}, {Key: "b", Value: []byte("2"), TTL: time.Second}}}, // set expire, once
		{Kind: kPersist, Key: "b"},                            // other
		{Kind: kPersist, Key: "b"},                            // nothing
		{Kind: kCompareAndDelete, Key: "b", Old: []byte("1")}, // nothing
		{Kind: kIncr, Key: "b", N: 0},                         // set
		{Kind: kDelete, Key: "missing"},                       // nothing
		{Kind: kSetWithTTL, Key: "c", Value: []byte("1"), TTL: time.Second},
		{Kind: kSleep, TTL: time.Second}, // c expired
	} {
		m.apply(s)
	}
	var got []string
	for _, e := range m.events {
		got = append(got, e.Op.String()+" "+e.Key)
	}
	want := []string{"set a", "expire a", "delete a", "append a", "set b", "expire b", "other b", "set b", "set c", "expire c", "expired c"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}
