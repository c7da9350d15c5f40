package robustness

import (
	"fmt"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"
)

// A modelState is the state of one key in the sequential model: a register
// or counter (Exists, Val) or a lock (Holder, Since, Fence). Histories are
// partitioned by key, so a state never holds more than one key.
type modelState struct {
	Exists bool
	Val    string

	// Lost is set by a failover that may have lost writes: the key holds
	// some value it held before, unknown until a call observes it. For a
	// lock, any earlier holder may hold it, and fences may repeat.
	Lost bool

	// Holder is the lease that holds the lock, 0 for none.
	Holder int
	// Maybe marks a lock that Holder, whose acquire had an unknown
	// outcome, may hold, or that may be free: another acquire may
	// succeed, and Holder's refresh or release may succeed or find the
	// lease lost.
	Maybe bool
	// Since is the call time of the acquire or refresh that started the
	// holder's current lease: the key expires on the store no sooner than
	// the TTL after it.
	Since int64
	// Fence is the highest fencing token handed out.
	Fence int64
}

// Model returns the sequential model that every history is checked
// against, partitioned by key:
//
//   - a register: Get returns the last value written; Set writes;
//     CompareAndSwap, CompareAndDelete and SetIfAbsent write only when
//     their condition holds, and report whether it did;
//   - a counter: Incr returns the previous sum (0 for a missing key) plus
//     its delta;
//   - a lock of lease lockTTL: at most one lease holds it; an acquire
//     succeeds only when the lock is free, or its holder's lease may have
//     expired (lockTTL has passed since that lease was last started), and
//     hands out a fence greater than every fence before; refresh and
//     release succeed only for the holder.
//
// A call of unknown outcome is applied as if it succeeded: porcupine places
// it at some moment after its call, or at the end of the history where it
// changes nothing observed. An OpLost puts the key in the Lost state.
func Model(lockTTL time.Duration) porcupine.Model {
	ttl := int64(lockTTL)
	return porcupine.Model{
		Partition: partitionByKey,
		Init:      func() any { return modelState{} },
		Step: func(state, input, output any) (bool, any) {
			return linearStep(ttl, state.(modelState), input.(Input), output.(Output))
		},
		DescribeOperation: func(input, output any) string { return Describe(input.(Input), output.(Output)) },
		DescribeState: func(state any) string {
			s := state.(modelState)
			switch {
			case s.Lost:
				return "unknown (after a failover)"
			case s.Holder != 0 || s.Maybe || s.Fence != 0:
				return fmt.Sprintf("holder %d (maybe another: %v), fence %d", s.Holder, s.Maybe, s.Fence)
			case !s.Exists:
				return "missing"
			default:
				return strconv.Quote(s.Val)
			}
		},
	}
}

// partitionByKey splits a history into one per key.
func partitionByKey(ops []porcupine.Operation) [][]porcupine.Operation {
	byKey := make(map[string]int)
	var parts [][]porcupine.Operation
	for _, op := range ops {
		k := op.Input.(Input).Key
		i, ok := byKey[k]
		if !ok {
			i = len(parts)
			byKey[k] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

// linearStep is the model's step: whether out is what in may return from
// state s (a lease older than ttl nanoseconds may have expired), and the
// state after it.
func linearStep(ttl int64, s modelState, in Input, out Output) (bool, modelState) {
	switch in.Op {
	case OpLost:
		return true, modelState{Lost: true}
	case OpGet:
		if s.Lost {
			return true, modelState{Exists: out.Found, Val: out.Value}
		}
		return out.Found == s.Exists && (!out.Found || out.Value == s.Val), s
	case OpSet:
		return true, modelState{Exists: true, Val: in.New}
	case OpCAS, OpCAD, OpSIA:
		return conditional(s, in, out)
	case OpIncr:
		return incr(s, in, out)
	default:
		return lockStep(ttl, s, in, out)
	}
}

// conditional steps CompareAndSwap, CompareAndDelete and SetIfAbsent.
func conditional(s modelState, in Input, out Output) (bool, modelState) {
	var holds bool // the condition holds in s
	written := modelState{Exists: true, Val: in.New}
	switch in.Op {
	case OpCAS:
		holds = s.Exists && s.Val == in.Old
	case OpCAD:
		holds = s.Exists && s.Val == in.Old
		written = modelState{}
	default:
		holds = !s.Exists
	}
	switch {
	case out.Unknown && s.Lost:
		return true, s
	case out.Unknown && holds:
		return true, written
	case out.Unknown:
		return true, s
	case out.OK:
		return s.Lost || holds, written
	default:
		return s.Lost || !holds, s
	}
}

// incr steps Incr.
func incr(s modelState, in Input, out Output) (bool, modelState) {
	if s.Lost {
		if out.Unknown {
			return true, s
		}
		return true, modelState{Exists: true, Val: strconv.FormatInt(out.N, 10)}
	}
	var cur int64
	if s.Exists {
		n, err := strconv.ParseInt(s.Val, 10, 64)
		if err != nil {
			return false, s
		}
		cur = n
	}
	sum := cur + in.Delta
	if !out.Unknown && out.N != sum {
		return false, s
	}
	return true, modelState{Exists: true, Val: strconv.FormatInt(sum, 10)}
}

// lockStep steps the calls of a lock.
func lockStep(ttl int64, s modelState, in Input, out Output) (bool, modelState) {
	// The holder's lease may have run out before the call returned.
	expired := s.Holder != 0 && in.Return-s.Since >= ttl
	canBeFree := s.Lost || s.Maybe || s.Holder == 0 || expired
	canBeHeld := s.Lost || s.Maybe || s.Holder != 0
	mine := s.Holder == in.Owner
	free := modelState{Fence: s.Fence}
	switch in.Op {
	case OpAcquire:
		switch {
		case out.Unknown && canBeFree:
			return true, modelState{Holder: in.Owner, Maybe: true, Since: in.Call, Fence: s.Fence}
		case out.Unknown:
			return true, s
		case out.OK:
			return canBeFree && out.N > s.Fence, modelState{Holder: in.Owner, Since: in.Call, Fence: out.N}
		default:
			return canBeHeld, s
		}
	case OpRefresh:
		switch {
		case s.Lost && out.OK:
			return true, modelState{Holder: in.Owner, Since: in.Call}
		case out.Unknown && mine:
			s.Since = in.Call
			return true, s
		case out.Unknown:
			return true, s
		case out.OK:
			s.Since, s.Maybe = in.Call, false
			return mine, s
		case mine:
			return expired || s.Maybe, free
		default:
			return true, s
		}
	default: // OpRelease
		switch {
		case s.Lost && out.OK:
			return true, modelState{}
		case out.Unknown && mine:
			return true, free
		case out.Unknown:
			return true, s
		case out.OK:
			return mine, free
		case mine:
			return expired || s.Maybe, free
		default:
			return true, s
		}
	}
}
