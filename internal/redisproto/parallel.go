package redisproto

import (
	"context"
	"sync"
	"sync/atomic"
)

// ForEach calls fn(ctx, i) for every i in [0, n), at most limit calls at a
// time (all of them when limit < 1), and returns once every call has
// returned. The first error cancels the context the other calls get, and is
// returned; calls not started by then are skipped. If ctx ends before every
// call has run, ForEach returns ctx's error. It suits work split by hash
// slot or by node, such as one MGET per slot group.
//
// With n == 1, fn runs on the calling goroutine.
func ForEach(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	switch {
	case n <= 0:
		return nil
	case n == 1:
		return fn(ctx, 0)
	}
	if limit < 1 || limit > n {
		limit = n
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		done     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range limit {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	switch {
	case firstErr != nil:
		return firstErr
	case done.Load() == int64(n):
		return nil
	}
	return ctx.Err()
}
