// Package lifecycle keeps a store's open or closed state and the watches
// that Close must end, for every backend of storekit: a call checks it
// before it touches anything, a watch registers with it, and Close ends the
// watches and waits for them.
package lifecycle

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/cledar/storekit/kv"
)

// A Life is whether a store is open, and the watches it runs: [Life.Close]
// ends every watch and waits for it. Call [Life.Init] before anything else;
// a Life is not copied after.
type Life struct {
	closed atomic.Bool
	mu     sync.Mutex         // orders Close against the start of a watch
	life   context.Context    // cancelled by Close; ends every watch
	end    context.CancelFunc // cancels life
	wg     sync.WaitGroup     // running watches
}

// Init makes l ready: open, with no watch.
func (l *Life) Init() {
	l.life, l.end = context.WithCancel(context.Background())
}

// Check returns the error a call must fail with before it touches the
// server: [kv.ErrClosed] after Close, or ctx's error once ctx is done.
func (l *Life) Check(ctx context.Context) error {
	if l.closed.Load() {
		return kv.ErrClosed
	}
	return ctx.Err()
}

// StartWatch registers a watch, or returns [kv.ErrClosed] after Close. The
// watch's context wctx ends when ctx ends, when cancel is called or when
// Close is called. The watch calls done once its goroutines have ended and
// its channel is closed: Close waits for that.
func (l *Life) StartWatch(ctx context.Context) (wctx context.Context, cancel context.CancelFunc, done func(), err error) {
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return nil, nil, nil, kv.ErrClosed
	}
	l.wg.Add(1)
	l.mu.Unlock()
	wctx, cancel = context.WithCancel(ctx)
	stop := context.AfterFunc(l.life, cancel)
	return wctx, cancel, func() { stop(); l.wg.Done() }, nil
}

// Closing is closed when Close is called.
func (l *Life) Closing() <-chan struct{} { return l.life.Done() }

// Close marks the store closed, ends every watch and waits until each has
// called its done. It reports false, at once, if the store was closed
// already.
func (l *Life) Close() bool {
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return false
	}
	l.closed.Store(true)
	l.end()
	l.mu.Unlock()
	l.wg.Wait()
	return true
}
