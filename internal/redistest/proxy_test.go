package redistest

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// rawConn is one connection through the proxy, kept open across commands.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, readyTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// do sends one command and reads the reply, waiting at most d.
func (c *rawConn) do(d time.Duration, args ...string) (any, error) {
	if err := c.conn.SetDeadline(time.Now().Add(d)); err != nil {
		return nil, err
	}
	w := bufio.NewWriter(c.conn)
	writeCommand(w, args...)
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return readReply(c.r)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

func TestProxy(t *testing.T) {
	s := Start(t, nil)
	// The goroutine that waits for the target's process, started again by
	// its restart below, is the server's, not the proxy's.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("github.com/cledar/storekit/internal/redistest.(*Server).launch.func1"))
	p := StartProxy(t, s.Addr())
	if p.Target() != s.Addr() {
		t.Errorf("Target = %s, want %s", p.Target(), s.Addr())
	}
	via := &Server{t: t, addr: p.Addr()}

	// Forwarding, on new connections and on one kept open.
	if got := via.MustDo("PING"); got != "PONG" {
		t.Fatalf("PING through the proxy = %v, want PONG", got)
	}
	via.MustDo("SET", "k", "v")
	if got := s.MustDo("GET", "k"); got != "v" {
		t.Errorf("GET k on the target = %v, want v", got)
	}
	before := dialRaw(t, p.Addr())
	if got, err := before.do(readyTimeout, "PING"); got != "PONG" || err != nil {
		t.Fatalf("PING on an open connection = %v, %v", got, err)
	}

	// Black hole: nothing answers, nothing is closed.
	p.Blackhole()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := via.DoContext(ctx, "PING")
	cancel()
	if !isTimeout(err) {
		t.Errorf("PING on a new connection through a black hole: err = %v, want a timeout", err)
	}
	if _, err := before.do(300*time.Millisecond, "PING"); !isTimeout(err) {
		t.Errorf("PING on an open connection through a black hole: err = %v, want a timeout", err)
	}
	during := dialRaw(t, p.Addr()) // accepted, never forwarded
	if _, err := during.do(300*time.Millisecond, "PING"); !isTimeout(err) {
		t.Errorf("PING on a connection made during the black hole: err = %v, want a timeout", err)
	}

	// Restore: new connections work; the black-holed ones are reset.
	p.Restore()
	if got := via.MustDo("PING"); got != "PONG" {
		t.Errorf("PING after Restore = %v, want PONG", got)
	}
	for name, c := range map[string]*rawConn{"open before": before, "made during": during} {
		if _, err := c.do(readyTimeout, "PING"); err == nil || isTimeout(err) {
			t.Errorf("PING on the connection %s the black hole, after Restore: err = %v, want it closed", name, err)
		}
	}

	// CutAll resets open connections; new ones work.
	open := dialRaw(t, p.Addr())
	if got, err := open.do(readyTimeout, "PING"); got != "PONG" || err != nil {
		t.Fatalf("PING on an open connection = %v, %v", got, err)
	}
	p.CutAll()
	if _, err := open.do(readyTimeout, "PING"); err == nil || isTimeout(err) {
		t.Errorf("PING after CutAll: err = %v, want the connection closed", err)
	}
	if got := via.MustDo("PING"); got != "PONG" {
		t.Errorf("PING on a new connection after CutAll = %v, want PONG", got)
	}

	// A black-holed client does not see the target go away.
	held := dialRaw(t, p.Addr())
	if got, err := held.do(readyTimeout, "PING"); got != "PONG" || err != nil {
		t.Fatalf("PING on an open connection = %v, %v", got, err)
	}
	p.Blackhole()
	s.Kill()
	if _, err := held.do(300*time.Millisecond, "PING"); !isTimeout(err) {
		t.Errorf("PING through a black hole to a killed target: err = %v, want a timeout", err)
	}
	s.Restart()
	p.Restore()
	if got := via.MustDo("PING"); got != "PONG" {
		t.Errorf("PING after the target's restart = %v, want PONG", got)
	}

	// Close stops listening and leaves no goroutine behind (checked by the
	// deferred goleak call).
	live := dialRaw(t, p.Addr())
	if got, err := live.do(readyTimeout, "PING"); got != "PONG" || err != nil {
		t.Fatalf("PING on an open connection = %v, %v", got, err)
	}
	p.Close()
	if _, err := live.do(readyTimeout, "PING"); err == nil || isTimeout(err) {
		t.Errorf("PING after Close: err = %v, want the connection closed", err)
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), readyTimeout); err == nil {
		c.Close()
		t.Error("dial after Close succeeded")
	}
	p.Close() // idempotent
}
