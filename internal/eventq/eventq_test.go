package eventq

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cledar/storekit/kv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func recv(t *testing.T, q *Queue) kv.Event {
	t.Helper()
	select {
	case e, ok := <-q.C():
		if !ok {
			t.Fatal("channel closed")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return kv.Event{}
}

func TestDeliversInOrder(t *testing.T) {
	q := New(context.Background(), 100)
	defer q.Close()
	for i := range 50 {
		q.Push(kv.Event{Op: kv.OpSet, Key: fmt.Sprint(i)})
	}
	for i := range 50 {
		if e := recv(t, q); e.Key != fmt.Sprint(i) {
			t.Fatalf("event %d has key %q", i, e.Key)
		}
	}
}

func TestOverflowBecomesOneResync(t *testing.T) {
	q := New(context.Background(), 4)
	defer q.Close()
	for i := range 1000 {
		q.Push(kv.Event{Op: kv.OpSet, Key: fmt.Sprint(i)})
	}
	// The drain goroutine holds at most one batch of 4; the resync that
	// replaced the rest must follow it.
	for received := 0; ; received++ {
		if received > 4 {
			t.Fatalf("received %d events from a queue of 4 and no resync", received)
		}
		if recv(t, q).Op == kv.OpResync {
			break
		}
	}
	// Once read, the queue delivers new events again. The resync just read
	// may have come from the batch the drain goroutine held while the
	// buffer was full again, so a push can still be replaced by a resync;
	// push until one gets through.
	for try := 0; ; try++ {
		if try == 10 {
			t.Fatal("the queue never delivered an event pushed after the consumer caught up")
		}
		q.Push(kv.Event{Op: kv.OpSet, Key: "after"})
		e := recv(t, q)
		for e.Key != "after" && e.Op != kv.OpResync {
			e = recv(t, q)
		}
		if e.Key == "after" {
			return
		}
	}
}

func TestOverflowKeepsResyncError(t *testing.T) {
	q := New(context.Background(), 1)
	defer q.Close()
	// The drain goroutine may already hold the first event, so fill well
	// past the limit.
	for range 10 {
		q.Push(kv.Event{Op: kv.OpSet, Key: "k"})
	}
	boom := fmt.Errorf("boom")
	q.Push(kv.Event{Op: kv.OpResync, Err: boom})
	for {
		if e := recv(t, q); e.Op == kv.OpResync && e.Err == boom {
			return
		}
	}
}

func TestContextEndClosesChannel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	q := New(ctx, 0)
	q.Push(kv.Event{Op: kv.OpSet})
	cancel()
	select {
	case <-q.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("queue did not stop after cancel")
	}
	for range q.C() {
	}
	if !q.Stopped() {
		t.Fatal("Stopped reports false once the channel is closed")
	}
	if q.Push(kv.Event{Op: kv.OpSet}) {
		t.Fatal("Push after stop reported true")
	}
	q.Close() // idempotent after the context ended
}

func TestCloseWithUnreadEvents(t *testing.T) {
	q := New(context.Background(), 10)
	for range 5 {
		q.Push(kv.Event{Op: kv.OpSet})
	}
	q.Close()
	q.Close()
	if _, ok := <-q.C(); ok {
		// at most the event the drain goroutine held may have been sent;
		// the channel must be closed after it
		if _, ok := <-q.C(); ok {
			t.Fatal("channel still delivering after Close")
		}
	}
}
