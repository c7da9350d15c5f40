package redistest

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"
)

// A Subscription receives pub/sub messages on a connection of its own.
type Subscription struct {
	conn net.Conn
	r    *bufio.Reader
}

// Subscribe PSUBSCRIBEs to pattern on a new connection and waits for the
// server's confirmation, so every message published afterwards arrives. The
// connection closes when t ends.
func (s *Server) Subscribe(t testing.TB, pattern string) *Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	conn, r, err := send(ctx, s.addr, s.password, "PSUBSCRIBE", pattern)
	if err != nil {
		t.Fatalf("redistest: subscribe: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	sub := &Subscription{conn: conn, r: r}
	if v, err := sub.read(); err != nil || len(v) < 1 || v[0] != "psubscribe" {
		t.Fatalf("redistest: PSUBSCRIBE %q: got %v, %v", pattern, v, err)
	}
	return sub
}

func (sub *Subscription) read() ([]any, error) {
	if err := sub.conn.SetReadDeadline(time.Now().Add(readyTimeout)); err != nil {
		return nil, err
	}
	v, err := readReply(sub.r)
	arr, _ := v.([]any)
	return arr, err
}

// Next returns the channel and payload of the next message, failing t when
// none arrives within a generous bound.
func (sub *Subscription) Next(t testing.TB) (channel, payload string) {
	t.Helper()
	v, err := sub.read()
	if err != nil {
		t.Fatalf("redistest: no pub/sub message: %v", err)
	}
	if len(v) != 4 || v[0] != "pmessage" {
		t.Fatalf("redistest: unexpected pub/sub reply %q", v)
	}
	channel, _ = v[2].(string)
	payload, _ = v[3].(string)
	return channel, payload
}
