package redistest

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// proxyDialTimeout bounds the proxy's dial of its target for one
// connection.
const proxyDialTimeout = 10 * time.Second

// A Proxy is a TCP proxy for fault tests: it forwards every connection
// made to [Proxy.Addr] to a target address, both ways, until told to fail
// them as a network would. Its methods may be called from any goroutine.
type Proxy struct {
	target string
	l      net.Listener
	ctx    context.Context // canceled by Close, ends dials
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and every connection's goroutines

	mu         sync.Mutex
	closed     bool
	blackholed bool
	conns      map[*proxyConn]struct{}
}

// A proxyConn is one client connection and its connection to the target.
type proxyConn struct {
	client net.Conn
	holed  atomic.Bool // drop everything read, both ways

	// Guarded by Proxy.mu.
	server net.Conn // nil until dialed, and for a connection accepted while black-holed
	closed bool
}

// StartProxy starts a proxy to target (host:port) on a free loopback port.
// It stops when t ends: see [Proxy.Close].
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: proxy listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{target: target, l: l, ctx: ctx, cancel: cancel, conns: make(map[*proxyConn]struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr returns the address clients connect to instead of the target.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// Target returns the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Blackhole makes the proxy behave as a network partition: from now on
// nothing is forwarded in either direction on any connection, open or new.
// Connections stay open and new ones are accepted, but the bytes read from
// either side are dropped, so a client sees its requests go unanswered
// until its own deadline; even the target closing a connection goes
// unseen. Bytes the proxy was already writing when Blackhole was called may
// still arrive.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackholed = true
	for pc := range p.conns {
		pc.holed.Store(true)
	}
}

// Restore ends a [Proxy.Blackhole]: connections made from now on are
// forwarded again. The connections that were black-holed, having lost
// bytes, are closed with a reset (RST), as a client would find them when
// the network comes back; it reconnects. Connections made before the
// black hole and closed by neither side stay closed.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackholed = false
	for pc := range p.conns {
		if pc.holed.Load() {
			p.closeConn(pc, true)
		}
	}
}

// CutAll closes every open connection with a reset (RST) on both sides, as
// a crashed middlebox or a restarted target would. New connections are
// accepted as before (and black-holed if the proxy is).
func (p *Proxy) CutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pc := range p.conns {
		p.closeConn(pc, true)
	}
}

// Close stops the proxy: it stops listening, closes every connection and
// waits until all of its goroutines have returned. It is called when the
// test ends, and does nothing the second time.
func (p *Proxy) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.l.Close()
		p.cancel()
		for pc := range p.conns {
			p.closeConn(pc, false)
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// closeConn closes both sides of pc, with a reset when rst is set. The
// caller holds p.mu.
func (p *Proxy) closeConn(pc *proxyConn, rst bool) {
	if pc.closed {
		return
	}
	pc.closed = true
	for _, c := range []net.Conn{pc.client, pc.server} {
		if tc, ok := c.(*net.TCPConn); ok && rst {
			_ = tc.SetLinger(0)
		}
		if c != nil {
			c.Close()
		}
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // say, too many open files
			continue
		}
		pc := &proxyConn{client: c}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		pc.holed.Store(p.blackholed)
		p.conns[pc] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(pc)
	}
}

// serve forwards pc until either side closes or the proxy closes it.
func (p *Proxy) serve(pc *proxyConn) {
	defer p.wg.Done()
	defer p.forget(pc)
	if pc.holed.Load() {
		// Accepted while black-holed: never connected to the target, only
		// drained until Restore, CutAll or Close ends it.
		drain(pc.client)
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, proxyDialTimeout)
	var d net.Dialer
	server, err := d.DialContext(ctx, "tcp", p.target)
	cancel()
	if err != nil {
		return // the client sees its connection closed, as with a dead target
	}
	p.mu.Lock()
	if pc.closed {
		p.mu.Unlock()
		server.Close()
		return
	}
	pc.server = server
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		pipe(pc, pc.client, server)
		// The target closed or failed. A black-holed client must not see
		// it: it keeps its connection, drained, until its end comes.
		if !pc.holed.Load() {
			p.forget(pc)
		}
	}()
	pipe(pc, server, pc.client)
}

// forget closes pc and drops it from the proxy's connections.
func (p *Proxy) forget(pc *proxyConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeConn(pc, false)
	delete(p.conns, pc)
}

// pipe copies from src to dst until either fails, dropping what it reads
// while pc is black-holed.
func pipe(pc *proxyConn, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !pc.holed.Load() {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// drain reads and drops from c until it fails.
func drain(c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
