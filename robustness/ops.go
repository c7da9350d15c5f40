package robustness

import (
	"fmt"
	"strings"
	"time"
)

// A stepKind is one operation of the contract, or a pause, in a sequence of
// the differential tests.
type stepKind uint8

// The operations of a sequence: one per method of package kv's interfaces,
// and kSleep, which lets time pass (a real sleep on a server, an Advance of
// a ManualClock on the memory store).
const (
	kGet stepKind = iota + 1
	kSet
	kSetWithTTL
	kDelete
	kGetMulti
	kSetMulti
	kDeleteMulti
	kScan
	kTTL
	kGetWithTTL
	kExpire
	kPersist
	kSetIfAbsent
	kCompareAndSwap
	kCompareAndDelete
	kIncr
	kAppend
	kAppendIf
	kHistory
	kAt
	kLatest
	kLatestMulti
	kPrune
	kSleep
)

var stepNames = [...]string{
	kGet: "Get", kSet: "Set", kSetWithTTL: "SetWithTTL", kDelete: "Delete",
	kGetMulti: "GetMulti", kSetMulti: "SetMulti", kDeleteMulti: "DeleteMulti",
	kScan: "Scan", kTTL: "TTL", kGetWithTTL: "GetWithTTL", kExpire: "Expire",
	kPersist: "Persist", kSetIfAbsent: "SetIfAbsent", kCompareAndSwap: "CompareAndSwap",
	kCompareAndDelete: "CompareAndDelete", kIncr: "Incr", kAppend: "Append",
	kAppendIf: "AppendIf", kHistory: "History", kAt: "At", kLatest: "Latest",
	kLatestMulti: "LatestMulti", kPrune: "Prune", kSleep: "Sleep",
}

// String returns the method's name.
func (k stepKind) String() string {
	if int(k) < len(stepNames) && stepNames[k] != "" {
		return stepNames[k]
	}
	return fmt.Sprintf("stepKind(%d)", k)
}

// An item is one entry of a SetMulti step.
type item struct {
	Key   string
	Value []byte
	TTL   time.Duration
}

// A step is one call of a sequence. Keys are suffixes of the sequence's
// prefix, and Pattern is a glob appended to the escaped prefix, so that one
// sequence runs unchanged under any prefix. Which fields a step uses
// depends on its Kind: N is Incr's delta, AppendIf's expected version, At's
// version and Prune's before; TTL is the expiry of a write, Expire's ttl and
// Sleep's duration.
type step struct {
	Kind    stepKind
	Key     string
	Keys    []string
	Items   []item
	Value   []byte
	Old     []byte
	TTL     time.Duration
	N       int64
	Pattern string
}

// String formats s as the call it makes, for failure reports.
func (s step) String() string {
	switch s.Kind {
	case kGet, kDelete, kTTL, kGetWithTTL, kPersist, kHistory, kLatest:
		return fmt.Sprintf("%v(%q)", s.Kind, s.Key)
	case kSet, kAppend:
		return fmt.Sprintf("%v(%q, %q)", s.Kind, s.Key, s.Value)
	case kSetWithTTL, kSetIfAbsent:
		return fmt.Sprintf("%v(%q, %q, %v)", s.Kind, s.Key, s.Value, s.TTL)
	case kGetMulti, kDeleteMulti, kLatestMulti:
		return fmt.Sprintf("%v(%q)", s.Kind, s.Keys)
	case kSetMulti:
		var b strings.Builder
		for i, it := range s.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "{%q, %q, %v}", it.Key, it.Value, it.TTL)
		}
		return fmt.Sprintf("SetMulti([%s])", b.String())
	case kScan:
		return fmt.Sprintf("Scan(prefix+%q)", s.Pattern)
	case kExpire:
		return fmt.Sprintf("Expire(%q, %v)", s.Key, s.TTL)
	case kCompareAndSwap:
		return fmt.Sprintf("CompareAndSwap(%q, %q, %q, %v)", s.Key, s.Old, s.Value, s.TTL)
	case kCompareAndDelete:
		return fmt.Sprintf("CompareAndDelete(%q, %q)", s.Key, s.Old)
	case kIncr, kAt, kPrune:
		return fmt.Sprintf("%v(%q, %d)", s.Kind, s.Key, s.N)
	case kAppendIf:
		return fmt.Sprintf("AppendIf(%q, %q, %d)", s.Key, s.Value, s.N)
	case kSleep:
		return fmt.Sprintf("Sleep(%v)", s.TTL)
	}
	return s.Kind.String()
}

// goLiteral formats s as a Go composite literal of type step, for a
// failing sequence printed as a test function.
func (s step) goLiteral() string {
	var f []string
	f = append(f, "Kind: k"+s.Kind.String())
	if s.Key != "" {
		f = append(f, fmt.Sprintf("Key: %q", s.Key))
	}
	if s.Keys != nil {
		q := make([]string, len(s.Keys))
		for i, k := range s.Keys {
			q[i] = fmt.Sprintf("%q", k)
		}
		f = append(f, "Keys: []string{"+strings.Join(q, ", ")+"}")
	}
	if s.Items != nil {
		q := make([]string, len(s.Items))
		for i, it := range s.Items {
			q[i] = fmt.Sprintf("{Key: %q, Value: %s, TTL: %s}", it.Key, bytesLiteral(it.Value), durationLiteral(it.TTL))
		}
		f = append(f, "Items: []item{"+strings.Join(q, ", ")+"}")
	}
	if s.Value != nil {
		f = append(f, "Value: "+bytesLiteral(s.Value))
	}
	if s.Old != nil {
		f = append(f, "Old: "+bytesLiteral(s.Old))
	}
	if s.TTL != 0 {
		f = append(f, "TTL: "+durationLiteral(s.TTL))
	}
	if s.N != 0 {
		f = append(f, fmt.Sprintf("N: %d", s.N))
	}
	if s.Pattern != "" {
		f = append(f, fmt.Sprintf("Pattern: %q", s.Pattern))
	}
	return "{" + strings.Join(f, ", ") + "}"
}

// bytesLiteral formats b as a Go expression of type []byte.
func bytesLiteral(b []byte) string {
	return fmt.Sprintf("[]byte(%q)", b)
}

// durationLiteral formats d as a Go expression of type time.Duration.
func durationLiteral(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%d * time.Millisecond", d/time.Millisecond)
	}
	return fmt.Sprintf("%d", int64(d))
}
