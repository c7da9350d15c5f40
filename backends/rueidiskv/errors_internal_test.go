package rueidiskv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/kv"
)

// replyError returns the *rueidis.RedisError of an error reply with text
// msg, built the only way rueidis allows outside its package: by decoding a
// serialized message.
func replyError(t *testing.T, msg string) error {
	t.Helper()
	buf := make([]byte, 7, 7+9+len(msg)) // 7 bytes of cache expiry
	buf = append(buf, '-')
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(msg)))
	buf = append(buf, msg...)
	var m rueidis.RedisMessage
	if err := m.CacheUnmarshalView(buf); err != nil {
		t.Fatal(err)
	}
	err := m.Error()
	if _, ok := rueidis.IsRedisErr(err); !ok {
		t.Fatalf("decoded %q into %v, not a *rueidis.RedisError", msg, err)
	}
	return err
}

func TestClassify(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	// A deadline that has passed although the context has not reported it
	// yet, as a socket deadline set from it can fire first.
	passed, cancel2 := context.WithDeadline(live, time.Now().Add(-time.Second))
	defer cancel2()
	opErr := func(op string, err error) error { return &net.OpError{Op: op, Net: "tcp", Err: err} }
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want error // nil: an operation error
	}{
		{"nil reply", live, rueidis.Nil, kv.ErrNotFound},
		{"wrapped nil reply", live, fmt.Errorf("x: %w", rueidis.Nil), kv.ErrNotFound},
		{"WRONGTYPE", live, replyError(t, "WRONGTYPE Operation against a key"), kv.ErrWrongType},
		{"LOADING", live, replyError(t, "LOADING Redis is loading"), kv.ErrUnavailable},
		{"WRONGPASS", live, replyError(t, "WRONGPASS invalid username-password pair"), kv.ErrUnavailable},
		{"too many clients, ERR stripped", live, replyError(t, "ERR max number of clients reached"), kv.ErrUnavailable},
		{"NOPERM", live, replyError(t, "NOPERM no permissions"), nil},
		{"other reply", live, replyError(t, "ERR syntax error"), nil},
		{"reply with a done context", cancelled, replyError(t, "ERR syntax error"), nil},
		{"EOF", live, io.EOF, kv.ErrUnavailable},
		{"unexpected EOF", live, io.ErrUnexpectedEOF, kv.ErrUnavailable},
		{"refused", live, opErr("dial", os.NewSyscallError("connect", syscall.ECONNREFUSED)), kv.ErrUnavailable},
		{"reset", live, opErr("read", os.NewSyscallError("read", syscall.ECONNRESET)), kv.ErrUnavailable},
		{"broken pipe", live, opErr("write", os.NewSyscallError("write", syscall.EPIPE)), kv.ErrUnavailable},
		{"timeout", live, opErr("read", os.ErrDeadlineExceeded), kv.ErrUnavailable},
		{"closed client", live, rueidis.ErrClosing, kv.ErrUnavailable},
		{"cached read aborted", live, rueidis.ErrDoCacheAborted, kv.ErrUnavailable},
		{"no cache support", live, rueidis.ErrNoCache, kv.ErrUnavailable},
		{"client's own timeout", live, context.DeadlineExceeded, kv.ErrUnavailable},
		{"caller's cancellation", cancelled, context.Canceled, context.Canceled},
		{"caller's deadline as a socket timeout", cancelled, opErr("read", os.ErrDeadlineExceeded), context.Canceled},
		{"caller's passed deadline, not yet reported", passed, opErr("dial", os.ErrDeadlineExceeded), context.DeadlineExceeded},
		{"protocol error", live, errors.New("unexpected reply"), nil},
	}
	for _, tt := range tests {
		if got := classify(tt.ctx, tt.err); got != tt.want {
			t.Errorf("%s: classify(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
		err := wrapErr(tt.ctx, `get "k"`, tt.err)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: %v does not wrap the native error", tt.name, err)
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: %v does not wrap %v", tt.name, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), `rueidiskv: get "k": `) {
			t.Errorf("%s: error text %q", tt.name, err)
		}
	}
	if !isWrongType(replyError(t, "WRONGTYPE x")) || isWrongType(replyError(t, "ERR x")) || isWrongType(rueidis.Nil) {
		t.Error("isWrongType misjudges a reply")
	}
}
