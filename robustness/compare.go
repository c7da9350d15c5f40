package robustness

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/cledar/storekit/kv"
)

// ttlPrecision is how far above the model's TTL a backend's may be: the
// contract lets a backend round a TTL up to its precision, a millisecond
// on Redis.
const ttlPrecision = time.Millisecond

// A ttlWindow is the range a backend's remaining TTL must fall in for the
// model's want: [want-Slack, want+ttlPrecision]. Slack is zero on a
// ManualClock, where the comparison is exact; in real time it is the time
// the sequence spent outside its sleeps (which the model does not count)
// and a margin for the server's clock.
type ttlWindow struct {
	Slack time.Duration
}

// check returns "" when got is within the window around want, or what is
// wrong.
func (w ttlWindow) check(got, want time.Duration) string {
	if want == kv.NoExpiry || got == kv.NoExpiry {
		if got != want {
			return fmt.Sprintf("TTL %v, want %v", got, want)
		}
		return ""
	}
	if w.Slack == 0 {
		if got != want {
			return fmt.Sprintf("TTL %v, want exactly %v (ManualClock)", got, want)
		}
		return ""
	}
	if got <= 0 || got > want+ttlPrecision || got < want-w.Slack {
		return fmt.Sprintf("TTL %v, want within [%v, %v]", got, want-w.Slack, want+ttlPrecision)
	}
	return ""
}

// compareOutcome returns "" when got is what the contract requires of
// kind, want being the model's outcome, or the difference.
func compareOutcome(kind stepKind, got, want outcome, w ttlWindow) string {
	if got.Err != want.Err {
		return fmt.Sprintf("error %s, want %s", orNil(got.Err), orNil(want.Err))
	}
	if got.Done != nil {
		return fmt.Sprintf("a *kv.BulkError with Done %v", got.Done)
	}
	if want.Err == "ErrConflict" && got.Conflict != want.Conflict {
		return fmt.Sprintf("VersionConflict.Latest %d, want %d", got.Conflict, want.Conflict)
	}
	if want.Err != "" {
		return ""
	}
	switch kind {
	case kGet, kAt:
		if got.Value == nil {
			return fmt.Sprintf("nil value, want %q", want.Value)
		}
		return diffBytes("value", got.Value, want.Value)
	case kGetWithTTL:
		if d := diffBytes("value", got.Value, want.Value); d != "" {
			return d
		}
		return w.check(got.TTL, want.TTL)
	case kTTL:
		return w.check(got.TTL, want.TTL)
	case kDelete, kExpire, kPersist, kSetIfAbsent, kCompareAndSwap, kCompareAndDelete:
		if got.Bool != want.Bool {
			return fmt.Sprintf("reported %v, want %v", got.Bool, want.Bool)
		}
	case kDeleteMulti, kIncr, kAppend, kAppendIf, kPrune:
		if got.Int != want.Int {
			return fmt.Sprintf("returned %d, want %d", got.Int, want.Int)
		}
	case kLatest:
		if got.Int != want.Int {
			return fmt.Sprintf("version %d, want %d", got.Int, want.Int)
		}
		return diffBytes("value", got.Value, want.Value)
	case kGetMulti:
		if len(got.Values) != len(want.Values) {
			return fmt.Sprintf("%d results, want %d", len(got.Values), len(want.Values))
		}
		for i, g := range got.Values {
			wv := want.Values[i]
			if g.Found != wv.Found || (wv.Found && !bytes.Equal(g.Data, wv.Data)) {
				return fmt.Sprintf("result %d: %s, want %s", i, fmtValue(g), fmtValue(wv))
			}
		}
	case kLatestMulti:
		if len(got.Latests) != len(want.Latests) {
			return fmt.Sprintf("%d results, want %d", len(got.Latests), len(want.Latests))
		}
		for i, g := range got.Latests {
			wv := want.Latests[i]
			if g.Found != wv.Found || g.Err != wv.Err || (wv.Found && (g.Version != wv.Version || !bytes.Equal(g.Value, wv.Value))) {
				return fmt.Sprintf("result %d: %+v, want %+v", i, g, wv)
			}
		}
	case kScan:
		if !slices.Equal(got.Keys, want.Keys) {
			return fmt.Sprintf("keys %q, want %q", got.Keys, want.Keys)
		}
	case kHistory:
		if len(got.History) != len(want.History) || !slices.EqualFunc(got.History, want.History, bytes.Equal) {
			return fmt.Sprintf("history %q, want %q", got.History, want.History)
		}
	}
	return ""
}

func orNil(class string) string {
	if class == "" {
		return "nil"
	}
	return class
}

func diffBytes(what string, got, want []byte) string {
	if !bytes.Equal(got, want) {
		return fmt.Sprintf("%s %q, want %q", what, got, want)
	}
	return ""
}

func fmtValue(v kv.Value) string {
	if !v.Found {
		return "not found"
	}
	return fmt.Sprintf("%q", v.Data)
}
