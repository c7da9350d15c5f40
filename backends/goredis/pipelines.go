package goredis

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// pipelines sends the pipelines of a store's bulk calls on a cluster (see
// "Shared pipelines" in the package documentation). Up to limit pipelines
// are in flight at once, each call in one of its own while fewer are; a
// call that arrives while limit are in flight waits, and the calls that
// wait go out together, first come first, in one pipeline of maxShared
// commands at most, as soon as one in flight ends.
//
// go-redis takes a connection of each node's pool for every pipeline and
// splits it over the nodes in goroutines of its own: many small
// pipelines at once cost more in that than in their commands, and one
// pipeline of several calls' commands costs little more than one of a
// single call's. A lone call waits for nothing.
type pipelines struct {
	c     *redis.ClusterClient
	limit int

	mu       sync.Mutex
	inFlight int
	waiting  []*pipelineCall
}

// A pipelineCall is a call waiting for a pipeline.
type pipelineCall struct {
	ctx  context.Context
	cmds []redis.Cmder
	sent bool          // whether cmds were sent, set before done is closed
	done chan struct{} // closed once cmds have their replies, or were dropped
}

// defaultPipelines is the number of pipelines a store has in flight at once
// before calls share them: the processors Go runs on, four at least.
func defaultPipelines() int { return max(4, runtime.GOMAXPROCS(0)) }

// newPipelines returns the pipelines of c, limit at most in flight.
func newPipelines(c *redis.ClusterClient, limit int) *pipelines {
	return &pipelines{c: c, limit: limit}
}

// do runs cmds, made with ctx, in a pipeline and returns once they have
// their replies, or with ctx's error once ctx is done. A call that returns
// ctx's error may leave its commands to be sent: their arguments must not
// change (see adapter.CopyBulkArgs).
func (p *pipelines) do(ctx context.Context, cmds []redis.Cmder) error {
	p.mu.Lock()
	if p.inFlight < p.limit {
		p.inFlight++
		p.mu.Unlock()
		defer p.next()
		exec(ctx, p.c, cmds)
		return nil
	}
	call := &pipelineCall{ctx: ctx, cmds: cmds, done: make(chan struct{})}
	p.waiting = append(p.waiting, call)
	p.mu.Unlock()
	select {
	case <-call.done:
	case <-ctx.Done():
		p.mu.Lock()
		if i := slices.Index(p.waiting, call); i >= 0 {
			p.waiting = slices.Delete(p.waiting, i, i+1)
		}
		p.mu.Unlock()
		select {
		case <-call.done: // the replies came as ctx ended
		default:
			return ctx.Err()
		}
	}
	if !call.sent {
		return ctx.Err() // dropped: ctx ended before its pipeline went out
	}
	return nil
}

// next hands the calls waiting, if any, to a goroutine that sends them, in
// place of the pipeline that just ended.
func (p *pipelines) next() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if calls := p.take(); calls != nil {
		go p.serve(calls)
	}
}

// serve sends calls in one pipeline, then the calls that waited meanwhile,
// until none waits.
func (p *pipelines) serve(calls []*pipelineCall) {
	for calls != nil {
		send(p.c, calls)
		p.mu.Lock()
		calls = p.take()
		p.mu.Unlock()
	}
}

// maxShared is the most commands a pipeline shared by several calls holds:
// go-redis reads a pipeline's replies from a node under one ReadTimeout,
// which a pipeline of many calls' commands must not outgrow. A call of
// more commands goes alone.
const maxShared = 4096

// take removes from the calls waiting, first come first, those of the
// next pipeline, and returns them; when none waits, it returns nil and
// counts the pipeline that ended out of those in flight. p.mu is held.
func (p *pipelines) take() []*pipelineCall {
	if len(p.waiting) == 0 {
		p.inFlight--
		return nil
	}
	n, cmds := 1, len(p.waiting[0].cmds)
	for n < len(p.waiting) && cmds+len(p.waiting[n].cmds) <= maxShared {
		cmds += len(p.waiting[n].cmds)
		n++
	}
	calls := slices.Clone(p.waiting[:n])
	p.waiting = slices.Delete(p.waiting, 0, n)
	return calls
}

// send runs the commands of the calls whose context is not done in one
// pipeline, and tells every call it is done. The pipeline runs with the
// values of the first call's context, and without a deadline unless every
// call has one: then the latest. A call whose deadline is earlier returns
// by it all the same (pipelines.do).
func send(c *redis.ClusterClient, calls []*pipelineCall) {
	var (
		live     []redis.Cmder
		first    context.Context
		latest   time.Time
		deadline = true
	)
	for _, call := range calls {
		if call.ctx.Err() != nil {
			continue // its caller returns, or has returned, ctx's error
		}
		call.sent = true
		if first == nil {
			first = call.ctx
		}
		d, ok := call.ctx.Deadline()
		deadline = deadline && ok
		if d.After(latest) {
			latest = d
		}
		live = append(live, call.cmds...)
	}
	if first != nil {
		ctx := context.WithoutCancel(first)
		if deadline {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, latest)
			defer cancel()
		}
		exec(ctx, c, live)
	}
	for _, call := range calls {
		close(call.done)
	}
}

// exec runs cmds in one pipeline of c, which go-redis splits by node.
// Errors are those of each command.
func exec(ctx context.Context, c redis.UniversalClient, cmds []redis.Cmder) {
	pipe := c.Pipeline()
	for _, cmd := range cmds {
		_ = pipe.Process(ctx, cmd) // queues cmd: no error
	}
	_, _ = pipe.Exec(ctx)
}
