package eventq

import (
	"context"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// waitWatch waits until c holds want: a count follows the delivery it
// counts.
func waitWatch(t *testing.T, c *metrics.WatchCounters, want metrics.Watch) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Load() != want {
		if time.Now().After(deadline) {
			t.Fatalf("counters = %+v, want %+v", c.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCounts: every push into a full queue is an overflow, every event
// sent is counted, and every OpResync after the first event is a resync.
func TestCounts(t *testing.T) {
	var c metrics.WatchCounters
	q := newQueue(1, &c)
	// Before the drain goroutine runs, the queue of one fills with the
	// first push, and each of the five more overflows it.
	q.Push(kv.Event{Op: kv.OpResync})
	for range 5 {
		q.Push(kv.Event{Op: kv.OpSet, Key: "k"})
	}
	waitWatch(t, &c, metrics.Watch{Overflows: 5})
	go q.drain(context.Background())
	defer q.Close()

	if e := recv(t, q); e.Op != kv.OpResync {
		t.Fatalf("first event = %v, want the resync of the overflows", e)
	}
	waitWatch(t, &c, metrics.Watch{Events: 1, Overflows: 5}) // the first event is no resync
	q.Push(kv.Event{Op: kv.OpSet, Key: "a"})
	recv(t, q)
	waitWatch(t, &c, metrics.Watch{Events: 2, Overflows: 5})
	q.Push(kv.Event{Op: kv.OpResync})
	recv(t, q)
	waitWatch(t, &c, metrics.Watch{Events: 3, Resyncs: 1, Overflows: 5})
}
