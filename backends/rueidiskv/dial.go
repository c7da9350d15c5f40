package rueidiskv

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/internal/rediskv"
)

// A dialFunc is a rueidis.ClientOption's DialCtxFn.
type dialFunc = func(ctx context.Context, addr string, d *net.Dialer, cfg *tls.Config) (net.Conn, error)

// dialerOf returns how a client built from opt dials: its DialCtxFn, its
// DialFn, or as rueidis does by default.
func dialerOf(opt rueidis.ClientOption) dialFunc {
	switch {
	case opt.DialCtxFn != nil:
		return opt.DialCtxFn
	case opt.DialFn != nil:
		dialFn := opt.DialFn
		return func(_ context.Context, addr string, d *net.Dialer, cfg *tls.Config) (net.Conn, error) {
			return dialFn(addr, d, cfg)
		}
	}
	noDelayOff := opt.DisableTCPNoDelay
	return func(ctx context.Context, addr string, d *net.Dialer, cfg *tls.Config) (net.Conn, error) {
		var (
			conn net.Conn
			err  error
		)
		if cfg != nil {
			td := tls.Dialer{NetDialer: d, Config: cfg}
			conn, err = td.DialContext(ctx, "tcp", addr)
		} else {
			conn, err = d.DialContext(ctx, "tcp", addr)
		}
		if tc, ok := conn.(*net.TCPConn); ok && noDelayOff {
			_ = tc.SetNoDelay(false)
		}
		return conn, err
	}
}

// firstDialBy returns a DialCtxFn that dials as opt says and, until
// deadline, gives up at deadline.
func firstDialBy(deadline time.Time, opt rueidis.ClientOption) dialFunc {
	next := dialerOf(opt)
	return func(ctx context.Context, addr string, d *net.Dialer, cfg *tls.Config) (net.Conn, error) {
		if time.Now().Before(deadline) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
		return next(ctx, addr, d, cfg)
	}
}

// An abandonedDial is the error of a dial that ended because the context
// it was made with ended: rueidis dials a connection with the context of the
// first call that needs it, and hands the outcome to every call that waited
// for the same connection meanwhile, whose own contexts may be live.
type abandonedDial struct{ err error }

func (e *abandonedDial) Error() string { return e.err.Error() }
func (e *abandonedDial) Unwrap() error { return e.err }

// markAbandoned returns next, whose errors are marked as an abandonedDial
// when its context ended.
func markAbandoned(next dialFunc) dialFunc {
	return func(ctx context.Context, addr string, d *net.Dialer, cfg *tls.Config) (net.Conn, error) {
		conn, err := next(ctx, addr, d, cfg)
		if err != nil && rediskv.ContextError(ctx) != nil {
			err = &abandonedDial{err}
		}
		return conn, err
	}
}

// maxRedials bounds how often a call is made again after a dial it waited
// for was abandoned.
const maxRedials = 3

// redial reports whether err, the outcome of a call made with ctx, means
// the dial the call waited for was abandoned by another call while ctx is
// live, so that the call, which sent nothing, should be made again. rueidis
// keeps a command that failed on the network for its caller to reuse.
func redial(ctx context.Context, err error) bool {
	return err != nil && dialAbandoned(ctx, err)
}

// dialAbandoned is redial for an error. It is a function of its own because
// the target of errors.As escapes to the heap wherever it is declared: so
// it is made only for an error, not for every reply.
func dialAbandoned(ctx context.Context, err error) bool {
	var a *abandonedDial
	return errors.As(err, &a) && rediskv.ContextError(ctx) == nil
}

// A redialClient is the rueidis client of a [Store]: calls that failed
// because the dial they waited for was abandoned by another call are made
// again (only clients whose dialer marks such dials, as Open's does, report
// them), so that a call fails for its own context's sake, or the server's,
// never for another call's deadline.
type redialClient struct{ rueidis.Client }

func (c redialClient) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	r := c.Client.Do(ctx, cmd)
	for i := 0; i < maxRedials && redial(ctx, r.Error()); i++ {
		r = c.Client.Do(ctx, cmd)
	}
	return r
}

func (c redialClient) DoCache(ctx context.Context, cmd rueidis.Cacheable, ttl time.Duration) rueidis.RedisResult {
	r := c.Client.DoCache(ctx, cmd, ttl)
	for i := 0; i < maxRedials && redial(ctx, r.Error()); i++ {
		r = c.Client.DoCache(ctx, cmd, ttl)
	}
	return r
}

// DoMulti makes again the commands whose dial was abandoned, and only
// those: on a cluster the others may have reached their servers.
func (c redialClient) DoMulti(ctx context.Context, multi ...rueidis.Completed) []rueidis.RedisResult {
	resps := c.Client.DoMulti(ctx, multi...)
	for range maxRedials {
		var again []int
		for i := range resps {
			if redial(ctx, resps[i].Error()) {
				again = append(again, i)
			}
		}
		if len(again) == 0 {
			break
		}
		cmds := make([]rueidis.Completed, len(again))
		for j, i := range again {
			cmds[j] = multi[i]
		}
		for j, r := range c.Client.DoMulti(ctx, cmds...) {
			resps[again[j]] = r
		}
	}
	return resps
}
