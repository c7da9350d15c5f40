package robustness

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// An OpKind is one kind of call in a recorded history.
type OpKind uint8

// The calls a history records. Register and counter calls are the store's
// own; lock calls are those of package lock, one per lease call; OpLost is
// no call but a failover, during which the keys may lose acknowledged
// writes.
const (
	OpGet     OpKind = iota // Get: Output.Found, Output.Value
	OpSet                   // Set of Input.New
	OpCAS                   // CompareAndSwap(Input.Old, Input.New): Output.OK
	OpCAD                   // CompareAndDelete(Input.Old): Output.OK
	OpSIA                   // SetIfAbsent(Input.New): Output.OK
	OpIncr                  // Incr(Input.Delta): Output.N, the sum
	OpAcquire               // TryLock by lease Input.Owner: Output.OK and Output.N, the fence; !OK is ErrHeld
	OpRefresh               // Lease.Refresh of Input.Owner: Output.OK; !OK is ErrLost
	OpRelease               // Lease.Release of Input.Owner: Output.OK; !OK is ErrLost
	OpLost                  // a failover that may lose acknowledged writes
)

var opNames = [...]string{"get", "set", "cas", "cad", "setifabsent", "incr", "acquire", "refresh", "release", "failover"}

func (k OpKind) String() string { return opNames[k] }

// An Input is what a recorded call asked for.
type Input struct {
	Op    OpKind
	Key   string
	Old   string
	New   string
	Delta int64
	// Owner names one lease: a lock call's holder.
	Owner int
	// Call and Return are the call's start and end on the history's
	// clock (Return is never for an unknown outcome), copied here by
	// History.Add so that the lock model can tell when a lease may have
	// expired.
	Call, Return int64
	// Failed is when a call of unknown outcome failed (Return for the
	// others).
	Failed int64
}

// An Output is what a recorded call returned. Unknown marks a call that
// failed in a way that leaves its outcome open (a timeout, an unavailable
// server, a cut connection): it may have taken effect, at any moment after
// it was made, or never.
type Output struct {
	Found   bool
	Value   string
	OK      bool
	N       int64
	Unknown bool
	// Err is the text of the error the call returned, if any, for the
	// report; the model does not read it.
	Err string
}

// never is the return time of a call whose outcome is unknown: porcupine may
// then place it anywhere after its call, the end of the history included,
// where it changes nothing that was observed.
const never = math.MaxInt64

// A History records the calls of concurrent clients, with their start and
// end times on one monotonic clock. Its methods may be called from any
// goroutine.
type History struct {
	start time.Time

	mu      sync.Mutex
	ops     []porcupine.Operation
	clients map[int]bool
	faults  []Fault
}

// A Fault is a fault injected while a history was recorded, from Start to
// End on the history's clock, for the report and the visualization.
type Fault struct {
	Name       string
	Start, End int64
	// Lossy marks a failover that may lose acknowledged writes: the
	// check inserts an OpLost spanning it and treats the calls that
	// overlap it as of unknown outcome.
	Lossy bool
}

// NewHistory returns an empty history whose clock starts now.
func NewHistory() *History {
	return &History{start: time.Now(), clients: make(map[int]bool)}
}

// Sibling returns a new, empty history on h's clock, so that a fault
// recorded in both spans the same calls.
func (h *History) Sibling() *History {
	return &History{start: h.start, clients: make(map[int]bool)}
}

// Now returns the history's clock: nanoseconds since NewHistory.
func (h *History) Now() int64 { return int64(time.Since(h.start)) }

// Add records a call by client that started at call and returned at ret
// (Now before and after it). A call of unknown outcome is recorded as
// returning never; a Get of unknown outcome tells nothing and is left out.
func (h *History) Add(client int, in Input, out Output, call, ret int64) {
	in.Failed = ret
	if out.Unknown {
		if in.Op == OpGet {
			return
		}
		ret = never
	}
	in.Call, in.Return = call, ret
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clients[client] = true
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret})
}

// AddFault records a fault that ran from start to end.
func (h *History) AddFault(f Fault) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults = append(h.faults, f)
}

// Operations returns a copy of the recorded calls, ordered by their start.
func (h *History) Operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	ops := append([]porcupine.Operation(nil), h.ops...)
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
	return ops
}

// Faults returns the recorded faults.
func (h *History) Faults() []Fault {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Fault(nil), h.faults...)
}

// Clients returns the number of clients that recorded a call.
func (h *History) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// Describe returns a call as the visualization shows it.
func Describe(in Input, out Output) string {
	res := ""
	switch {
	case out.Unknown:
		res = "unknown"
	case in.Op == OpGet && !out.Found:
		res = "not found"
	case in.Op == OpGet:
		res = fmt.Sprintf("%q", out.Value)
	case in.Op == OpIncr:
		res = fmt.Sprint(out.N)
	case in.Op == OpAcquire && out.OK:
		res = fmt.Sprintf("fence %d", out.N)
	case in.Op == OpLost:
		res = "writes may be lost"
	default:
		res = fmt.Sprint(out.OK)
	}
	switch in.Op {
	case OpGet:
		return fmt.Sprintf("get(%s) -> %s", in.Key, res)
	case OpSet, OpSIA:
		return fmt.Sprintf("%s(%s, %q) -> %s", in.Op, in.Key, in.New, res)
	case OpCAS:
		return fmt.Sprintf("cas(%s, %q, %q) -> %s", in.Key, in.Old, in.New, res)
	case OpCAD:
		return fmt.Sprintf("cad(%s, %q) -> %s", in.Key, in.Old, res)
	case OpIncr:
		return fmt.Sprintf("incr(%s, %d) -> %s", in.Key, in.Delta, res)
	case OpLost:
		return "failover: " + res
	default:
		return fmt.Sprintf("%s(%s, lease %d) -> %s", in.Op, in.Key, in.Owner, res)
	}
}

// describeErr is Describe followed by the call's error, if any.
func describeErr(in Input, out Output) string {
	if out.Err == "" {
		return Describe(in, out)
	}
	return Describe(in, out) + " (" + out.Err + ")"
}
