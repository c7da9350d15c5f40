package rueidiskv

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"

	"github.com/redis/rueidis"
)

// The connections of a client that a Cache is installed in.

// ClientOption returns opt with c installed, for rueidis.NewClient: its
// NewCacheStoreFn is c's [Cache.NewStore], so that the client reports every
// invalidation and every lost connection to c; its DialCtxFn wraps opt's
// dialer (DialCtxFn, DialFn or rueidis's default) so that c is also
// emptied as soon as a connection that carried cached reads fails a read or
// a write, before rueidis has torn the connection down; DisableCache is
// false, and ClientTrackingOptions is nil: the cache needs rueidis's
// default tracking, CLIENT TRACKING ON OPTIN. With DisableTCPNoDelay,
// connections dialled by rueidis's default dialer have Nagle's algorithm
// on from the start.
func (c *Cache) ClientOption(opt rueidis.ClientOption) rueidis.ClientOption {
	next := dialerOf(opt)
	opt.DialFn = nil
	opt.DialCtxFn = func(ctx context.Context, addr string, d *net.Dialer, cfg *tls.Config) (net.Conn, error) {
		conn, err := next(ctx, addr, d, cfg)
		if err != nil {
			return nil, err
		}
		return &cacheConn{Conn: conn, c: c}, nil
	}
	opt.NewCacheStoreFn = c.NewStore
	opt.DisableCache = false
	opt.ClientTrackingOptions = nil
	return opt
}

// A cacheConn is a connection of a client that c is installed in. Once it
// has carried a tracked read, the first read or write that fails empties
// the cache: the connection is lost, and with it the server's tracking of
// the keys read over it. rueidis reports the loss too, once it has torn the
// connection down, which takes a while; reading the connection's end comes
// first.
type cacheConn struct {
	net.Conn
	c       *Cache
	tracked atomic.Bool // a CLIENT CACHING YES was written
	lost    atomic.Bool
}

// cachingYes is how CLIENT CACHING YES, which precedes every tracked read,
// ends on the wire.
var cachingYes = []byte("$7\r\nCACHING\r\n$3\r\nYES\r\n")

func (cc *cacheConn) Read(b []byte) (int, error) {
	n, err := cc.Conn.Read(b)
	if err != nil {
		cc.lose()
	}
	return n, err
}

func (cc *cacheConn) Write(b []byte) (int, error) {
	// A command split across two writes is missed here; rueidis's own
	// report of the loss then empties the cache, a little later.
	if !cc.tracked.Load() && bytes.Contains(b, cachingYes) {
		cc.tracked.Store(true)
	}
	n, err := cc.Conn.Write(b)
	if err != nil {
		cc.lose()
	}
	return n, err
}

func (cc *cacheConn) lose() {
	if cc.tracked.Load() && cc.lost.CompareAndSwap(false, true) {
		cc.c.flush()
	}
}
