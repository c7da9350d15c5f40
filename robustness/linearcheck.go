package robustness

import (
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// CheckOptions say how a history is checked.
type CheckOptions struct {
	// LockTTL is the lease of the lock the history's clients took.
	LockTTL time.Duration
	// Stale lets the Gets of the clients it lists return a value the key
	// held up to that long before the Get started: the delay with which
	// a client-side cache hears of other clients' writes. Never a value
	// held before the end of the client's own last write of the key that
	// returned before the Get started: a cache drops what its own writes
	// replace. Zero for a client checks its Gets as linearizable.
	Stale map[int]time.Duration
	// Resend says that the clients may send a call twice when its
	// connection breaks (go-redis's retries): a call that overlaps a
	// fault then has an unknown outcome, and a write among them may take
	// effect twice, the second time after other clients' writes (an Incr
	// adds its delta again, a Set undoes the writes between).
	Resend bool
	// Timeout bounds porcupine's search; past it the result is
	// porcupine.Unknown.
	Timeout time.Duration
}

// A CheckResult is the outcome of checking one history.
type CheckResult struct {
	Result porcupine.CheckResult
	// Ops counts the calls checked, Unknown those of unknown outcome
	// among them, Dropped the calls left out because a lossy failover
	// covers them, and Keys the partitions.
	Ops, Unknown, Dropped, Keys, Clients int
	// Invented lists the Gets that returned a value no client wrote to
	// the key: a failure whatever the linearizability check says.
	Invented []string
	// Explanation shows, for each key whose history is not
	// linearizable, the end of the longest linearization found and the
	// calls that could not follow it.
	Explanation string
	// Visualization is the path of the HTML file that shows a history
	// that is not linearizable.
	Visualization string
}

// Failed reports whether the check found a violation.
func (r CheckResult) Failed() bool {
	return r.Result == porcupine.Illegal || len(r.Invented) > 0
}

func (r CheckResult) String() string {
	s := fmt.Sprintf("%s: %d calls (%d of unknown outcome) by %d clients on %d keys", r.Result, r.Ops, r.Unknown, r.Clients, r.Keys)
	if r.Dropped > 0 {
		s += fmt.Sprintf(", %d more left out during failovers that may lose writes", r.Dropped)
	}
	if len(r.Invented) > 0 {
		s += fmt.Sprintf("; %d reads of values never written, first %s", len(r.Invented), r.Invented[0])
	}
	if r.Visualization != "" {
		s += "; visualization in " + r.Visualization
	}
	return s
}

// Check checks h against Model: it applies opts.Stale and opts.Resend,
// inserts an OpLost into every key for each lossy fault (spanning the fault
// and lossySettle after it), leaves out the Gets that overlap that span and
// the calls that started and ended within it, makes those that started
// before it and ended within or after it of unknown outcome, then runs
// porcupine.
// When the history is not linearizable, the visualization is written to a
// temporary file named in the result.
func Check(h *History, opts CheckOptions) CheckResult {
	ops := h.Operations()
	written := make(map[string]map[string]bool)
	keys := make(map[string]bool)
	for _, op := range ops {
		in := op.Input.(Input)
		keys[in.Key] = true
		if in.Op == OpSet || in.Op == OpCAS || in.Op == OpSIA {
			if written[in.Key] == nil {
				written[in.Key] = make(map[string]bool)
			}
			written[in.Key][in.New] = true
		}
	}

	own := ownWrites(ops)
	res := CheckResult{Keys: len(keys), Clients: h.Clients()}
	var checked []porcupine.Operation
	lossy := lossyFaults(h.Faults())
	for _, op := range ops {
		in, out := op.Input.(Input), op.Output.(Output)
		if in.Op == OpGet && out.Found && written[in.Key] != nil && !written[in.Key][out.Value] {
			res.Invented = append(res.Invented, Describe(in, out))
		}
		if fs := during(op, lossy); len(fs) > 0 {
			f := fs[0]
			switch {
			case in.Op == OpGet || op.Call >= f.Start && in.Failed <= f.End:
				// The failover's OpLost covers whatever this call did:
				// it started after the failover did, so no call that
				// ended before the failover saw it, and it ended before
				// any call that the check keeps after the failover began.
				res.Dropped++
				continue
			case !out.Unknown:
				// It started before the failover and may have been
				// lost in it, whatever it returned.
				in.Failed, in.Return, op.Return = op.Return, never, never
				out = Output{Unknown: true, Err: "overlaps a failover"}
			}
		}
		if opts.Resend && !out.Unknown && len(during(op, h.Faults())) > 0 {
			// Its client may have sent it twice over a broken connection.
			in.Failed, in.Return, op.Return = op.Return, never, never
			out = Output{Unknown: true, Err: "overlaps a fault of its connection"}
		}
		if d := opts.Stale[op.ClientId]; d > 0 && in.Op == OpGet {
			// Not before the client's own last write returned (a call
			// that starts when another returns overlaps it).
			op.Call = max(op.Call-int64(d), own.lastBefore(op.ClientId, in.Key, op.Call)+1)
		}
		op.Input, op.Output = in, out
		if out.Unknown && in.Op == OpGet {
			continue // it tells nothing
		}
		if out.Unknown {
			res.Unknown++
		}
		if out.Unknown && opts.Resend {
			// A second sending, which the server may run after other
			// clients' writes.
			checked = append(checked, op)
			res.Unknown++
		}
		checked = append(checked, op)
	}
	for _, f := range lossy {
		for k := range keys {
			end := f.End + int64(lossySettle)
			in := Input{Op: OpLost, Key: k, Call: f.Start, Return: end}
			checked = append(checked, porcupine.Operation{ClientId: -1, Input: in, Output: Output{}, Call: f.Start, Return: end})
		}
	}
	res.Ops = len(checked)

	model := Model(opts.LockTTL)
	result, info := porcupine.CheckOperationsVerbose(model, checked, opts.Timeout)
	res.Result = result
	if result == porcupine.Illegal {
		res.Visualization = visualize(model, info)
		res.Explanation = explain(opts.LockTTL, checked, info)
		for _, f := range h.Faults() {
			res.Explanation += fmt.Sprintf("fault %q from %.3f to %.3f ms\n", f.Name, float64(f.Start)/1e6, float64(f.End)/1e6)
		}
	}
	return res
}

// writeEnds holds, by client and key, when the client's writes of the key
// that took effect returned, in the order of the history.
type writeEnds map[int]map[string][]int64

// ownWrites returns the ends of the writes of ops that returned having
// taken effect: a Set or an Incr, a conditional write that reports it
// wrote.
func ownWrites(ops []porcupine.Operation) writeEnds {
	w := make(writeEnds)
	for _, op := range ops {
		in, out := op.Input.(Input), op.Output.(Output)
		wrote := in.Op == OpSet || in.Op == OpIncr ||
			(in.Op == OpCAS || in.Op == OpCAD || in.Op == OpSIA) && out.OK
		if !wrote || out.Unknown {
			continue
		}
		if w[op.ClientId] == nil {
			w[op.ClientId] = make(map[string][]int64)
		}
		w[op.ClientId][in.Key] = append(w[op.ClientId][in.Key], op.Return)
	}
	return w
}

// lastBefore returns the end of the last write of key by client that
// returned before t, or the earliest time if there is none.
func (w writeEnds) lastBefore(client int, key string, t int64) int64 {
	last := int64(math.MinInt64 + 1)
	for _, end := range w[client][key] {
		if end < t {
			last = max(last, end)
		}
	}
	return last
}

// lossyFaults returns the faults that may lose acknowledged writes.
func lossyFaults(faults []Fault) []Fault {
	var out []Fault
	for _, f := range faults {
		if f.Lossy {
			out = append(out, f)
		}
	}
	return out
}

// during returns the first of faults that op overlaps, if any. A lossy
// fault's span reaches lossySettle past its end, to cover calls that
// failed during it and still reached the server a moment later.
func during(op porcupine.Operation, faults []Fault) []Fault {
	for _, f := range faults {
		if f.Lossy {
			f.End += int64(lossySettle)
		}
		if op.Call <= f.End && op.Return >= f.Start {
			return []Fault{f}
		}
	}
	return nil
}

// lossySettle is how long after a lossy failover ends a call that failed
// during it is taken to have reached a server at the latest: the faults of
// the tests hold no request longer.
const lossySettle = time.Second

// explain describes the keys whose history porcupine could not linearize:
// the last calls of the longest linearization it found, with the state
// after each, and the first calls, by start, that it could not place.
func explain(lockTTL time.Duration, checked []porcupine.Operation, info porcupine.LinearizationInfo) string {
	parts := partitionByKey(checked)
	partial := info.PartialLinearizationsOperations()
	var b strings.Builder
	for p, ops := range parts {
		if p >= len(partial) {
			break
		}
		var longest []porcupine.Operation
		for _, l := range partial[p] {
			if len(l) > len(longest) {
				longest = l
			}
		}
		if len(longest) == len(ops) {
			continue
		}
		fmt.Fprintf(&b, "key %s: %d of %d calls linearized; the last of them (times in ms from the start, state after):\n",
			ops[0].Input.(Input).Key, len(longest), len(ops))
		state := modelState{}
		placed := make(map[[2]int64]bool)
		for i, op := range longest {
			in := op.Input.(Input)
			_, state = linearStep(int64(lockTTL), state, in, op.Output.(Output))
			placed[[2]int64{op.Call, int64(op.ClientId)}] = true
			if i >= len(longest)-12 {
				fmt.Fprintf(&b, "  %s  => %+v\n", describeTimed(op), state)
			}
		}
		fmt.Fprintf(&b, "  calls it could not place next (first by start):\n")
		n := 0
		for _, op := range ops {
			if placed[[2]int64{op.Call, int64(op.ClientId)}] {
				continue
			}
			fmt.Fprintf(&b, "  %s\n", describeTimed(op))
			if n++; n == 8 {
				break
			}
		}
	}
	return b.String()
}

// describeTimed describes a call with its client and times in
// milliseconds.
func describeTimed(op porcupine.Operation) string {
	ret := "never"
	if op.Return != never {
		ret = fmt.Sprintf("%.3f", float64(op.Return)/1e6)
	}
	return fmt.Sprintf("client %d [%.3f, %s] %s", op.ClientId, float64(op.Call)/1e6, ret, describeErr(op.Input.(Input), op.Output.(Output)))
}

// visualize writes porcupine's visualization of a history to a new
// temporary file and returns its path, or why it could not.
func visualize(model porcupine.Model, info porcupine.LinearizationInfo) string {
	f, err := os.CreateTemp("", "storekit-linearizability-*.html")
	if err != nil {
		return "(no visualization: " + err.Error() + ")"
	}
	defer f.Close()
	if err := porcupine.Visualize(model, info, f); err != nil {
		return "(no visualization: " + err.Error() + ")"
	}
	return f.Name()
}
