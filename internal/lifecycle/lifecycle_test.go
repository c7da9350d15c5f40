package lifecycle

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/cledar/storekit/kv"
)

func TestLifecycle(t *testing.T) {
	var l Life
	l.Init()
	ctx := context.Background()
	if err := l.Check(ctx); err != nil {
		t.Fatalf("Check on an open store = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Check(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with a cancelled context = %v, want context.Canceled", err)
	}
	wctx, wcancel, done, err := l.StartWatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer wcancel()
	var finished atomic.Bool
	go func() {
		<-wctx.Done() // Close ends the watch
		finished.Store(true)
		done()
	}()
	if !l.Close() {
		t.Error("first Close reported the store closed already")
	}
	if !finished.Load() {
		t.Error("Close returned before the watch called done")
	}
	select {
	case <-l.Closing():
	default:
		t.Error("Closing is still open after Close")
	}
	if l.Close() {
		t.Error("second Close reported closing the store")
	}
	if err := l.Check(ctx); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Check after Close = %v, want kv.ErrClosed", err)
	}
	if _, _, _, err := l.StartWatch(ctx); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("StartWatch after Close = %v, want kv.ErrClosed", err)
	}
}
