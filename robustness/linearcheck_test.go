package robustness

import (
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// TestCheckStaleOwnWrites: CheckOptions.Stale lets a cached client's Get
// return a value another client's write replaced a moment before, never
// one that the client's own write had replaced before the Get started.
func TestCheckStaleOwnWrites(t *testing.T) {
	ms := int64(time.Millisecond)
	// Client 0 writes "a", client 1 "b", client 0 "c"; then a client reads.
	history := func(reader int, got string) *History {
		h := NewHistory()
		h.Add(0, Input{Op: OpSet, Key: "k", New: "a"}, Output{}, 1*ms, 2*ms)
		h.Add(1, Input{Op: OpSet, Key: "k", New: "b"}, Output{}, 3*ms, 4*ms)
		h.Add(0, Input{Op: OpSet, Key: "k", New: "c"}, Output{}, 5*ms, 6*ms)
		h.Add(reader, Input{Op: OpGet, Key: "k"}, Output{Found: true, Value: got}, 7*ms, 8*ms)
		return h
	}
	stale := map[int]time.Duration{0: time.Second, 2: time.Second}
	for _, tt := range []struct {
		reader int
		got    string
		want   porcupine.CheckResult
	}{
		{2, "c", porcupine.Ok},
		{2, "b", porcupine.Ok},      // replaced by client 0's write, 2 ms before
		{2, "a", porcupine.Ok},      // likewise
		{0, "c", porcupine.Ok},      // its own write
		{0, "b", porcupine.Illegal}, // replaced by its own write
		{0, "a", porcupine.Illegal}, // likewise
		{1, "b", porcupine.Illegal}, // not a cached client
	} {
		res := Check(history(tt.reader, tt.got), CheckOptions{LockTTL: lockTTL, Stale: stale, Timeout: checkTimeout})
		if res.Result != tt.want {
			t.Errorf("client %d reads %q after the writes: %v, want %v", tt.reader, tt.got, res.Result, tt.want)
		}
	}
}

// TestCheckResend: with CheckOptions.Resend, a write that overlaps a fault
// of its connection may take effect twice, the second time after another
// client's write (go-redis re-sends it on a new connection after the
// first one's reply was lost); without Resend it takes effect once.
func TestCheckResend(t *testing.T) {
	ms := int64(time.Millisecond)
	// Client 0 writes during a fault; client 1 reads that value, writes
	// its own, and then reads client 0's value again.
	history := func(write Input, got string) *History {
		h := NewHistory()
		h.AddFault(Fault{Name: "connections cut", Start: 1 * ms, End: 2 * ms})
		h.Add(1, Input{Op: OpSet, Key: "k", New: "x"}, Output{}, 0, 1*ms/2)
		h.Add(0, write, Output{OK: true}, 1*ms, 3*ms)
		h.Add(1, Input{Op: OpGet, Key: "k"}, Output{Found: true, Value: "a"}, 4*ms, 5*ms)
		h.Add(1, Input{Op: OpSet, Key: "k", New: "b"}, Output{}, 6*ms, 7*ms)
		h.Add(1, Input{Op: OpGet, Key: "k"}, Output{Found: true, Value: got}, 8*ms, 9*ms)
		return h
	}
	set := Input{Op: OpSet, Key: "k", New: "a"}
	cas := Input{Op: OpCAS, Key: "k", Old: "x", New: "a"}
	for _, tt := range []struct {
		name   string
		write  Input
		got    string
		resend bool
		want   porcupine.CheckResult
	}{
		{"set, read after the other write", set, "b", true, porcupine.Ok},
		{"set, sent again after the other write", set, "a", true, porcupine.Ok},
		{"set, sent once", set, "a", false, porcupine.Illegal},
		// A second CompareAndSwap finds "b", not "x": it changes nothing.
		{"cas, sent again after the other write", cas, "a", true, porcupine.Illegal},
		{"cas, read after the other write", cas, "b", true, porcupine.Ok},
	} {
		res := Check(history(tt.write, tt.got), CheckOptions{LockTTL: lockTTL, Resend: tt.resend, Timeout: checkTimeout})
		if res.Result != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, res.Result, tt.want)
		}
	}
}
