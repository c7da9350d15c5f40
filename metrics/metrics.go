package metrics

import (
	"context"
	"errors"
	"strconv"

	"github.com/cledar/storekit/kv"
)

// An Op is a store operation that [Counters] count: one per method of
// kv.Store and its optional interfaces.
type Op uint8

// The operations, named after the kv methods.
const (
	OpGet Op = iota
	OpSet
	OpDelete
	OpGetMulti
	OpScan
	OpSetWithTTL
	OpTTL
	OpExpire
	OpPersist
	OpGetWithTTL
	OpWatch
	OpAppend
	OpAppendIf
	OpLatest
	OpLatestMulti
	OpAt
	OpHistory
	OpPrune
	OpSetIfAbsent
	OpCompareAndSwap
	OpCompareAndDelete
	OpIncr
	OpSetMulti
	OpDeleteMulti

	// NumOps is the number of operations: Ops are 0 to NumOps-1.
	NumOps = iota
)

var opNames = [NumOps]string{
	OpGet:              "get",
	OpSet:              "set",
	OpDelete:           "delete",
	OpGetMulti:         "getmulti",
	OpScan:             "scan",
	OpSetWithTTL:       "setwithttl",
	OpTTL:              "ttl",
	OpExpire:           "expire",
	OpPersist:          "persist",
	OpGetWithTTL:       "getwithttl",
	OpWatch:            "watch",
	OpAppend:           "append",
	OpAppendIf:         "appendif",
	OpLatest:           "latest",
	OpLatestMulti:      "latestmulti",
	OpAt:               "at",
	OpHistory:          "history",
	OpPrune:            "prune",
	OpSetIfAbsent:      "setifabsent",
	OpCompareAndSwap:   "compareandswap",
	OpCompareAndDelete: "compareanddelete",
	OpIncr:             "incr",
	OpSetMulti:         "setmulti",
	OpDeleteMulti:      "deletemulti",
}

// String returns the operation's name: its method's name in lower case,
// such as "get" or "getmulti".
func (o Op) String() string { return name(opNames[:], o, "Op") }

// name returns names[v], or typ(v) for a v without a name.
func name[T ~uint8](names []string, v T, typ string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(int(v)) + ")"
}

// A Kind is the kind of a failed operation's error: the kv sentinel or
// context error it wraps. A missing key is not an error and has no Kind.
type Kind uint8

// The kinds of errors, in the order [KindOf] tests them.
const (
	// KindClosed: the store was closed ([kv.ErrClosed]).
	KindClosed Kind = iota
	// KindCanceled: the caller's context was cancelled.
	KindCanceled
	// KindTimeout: the caller's context reached its deadline.
	KindTimeout
	// KindUnavailable: the backend could not be used ([kv.ErrUnavailable]).
	KindUnavailable
	// KindPermission: the backend refused the rights ([kv.ErrPermission]).
	KindPermission
	// KindFull: the backend had no room for a write ([kv.ErrFull]).
	KindFull
	// KindWrongType: the key holds another kind of value ([kv.ErrWrongType]).
	KindWrongType
	// KindInvalid: an argument was invalid ([kv.ErrInvalid]).
	KindInvalid
	// KindConflict: a conditional write lost ([kv.ErrConflict]).
	KindConflict
	// KindNotSupported: a capability was missing ([kv.ErrNotSupported]).
	KindNotSupported
	// KindOther: an operation error that matches none of the above.
	KindOther

	// NumKinds is the number of kinds: Kinds are 0 to NumKinds-1.
	NumKinds = iota
)

var kindNames = [NumKinds]string{
	KindClosed:       "closed",
	KindCanceled:     "canceled",
	KindTimeout:      "timeout",
	KindUnavailable:  "unavailable",
	KindPermission:   "permission",
	KindFull:         "full",
	KindWrongType:    "wrong_type",
	KindInvalid:      "invalid",
	KindConflict:     "conflict",
	KindNotSupported: "not_supported",
	KindOther:        "other",
}

// String returns the kind's name, such as "unavailable" or "wrong_type".
func (k Kind) String() string { return name(kindNames[:], k, "Kind") }

// kindErrs are the errors that stand for each kind but KindOther.
var kindErrs = [KindOther]error{
	KindClosed:       kv.ErrClosed,
	KindCanceled:     context.Canceled,
	KindTimeout:      context.DeadlineExceeded,
	KindUnavailable:  kv.ErrUnavailable,
	KindPermission:   kv.ErrPermission,
	KindFull:         kv.ErrFull,
	KindWrongType:    kv.ErrWrongType,
	KindInvalid:      kv.ErrInvalid,
	KindConflict:     kv.ErrConflict,
	KindNotSupported: kv.ErrNotSupported,
}

// KindOf returns the kind of err, an error returned by a store: the first
// kind, in the order of the Kind constants, whose sentinel err wraps
// ([errors.Is]), else KindOther. It reports false for nil and for an error
// wrapping [kv.ErrNotFound], which are not failures.
func KindOf(err error) (Kind, bool) {
	if err == nil || errors.Is(err, kv.ErrNotFound) {
		return 0, false
	}
	for k, e := range kindErrs {
		if errors.Is(err, e) {
			return Kind(k), true
		}
	}
	return KindOther, true
}
