package goredis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/kv"
)

// replyError is an error reply as go-redis returns it.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

func TestClassify(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	opErr := func(op string, err error) error { return &net.OpError{Op: op, Net: "tcp", Err: err} }
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want error // nil: an operation error
	}{
		{"nil reply", live, redis.Nil, kv.ErrNotFound},
		{"wrapped nil reply", live, fmt.Errorf("x: %w", redis.Nil), kv.ErrNotFound},
		{"WRONGTYPE", live, replyError("WRONGTYPE Operation against a key"), kv.ErrWrongType},
		{"LOADING", live, replyError("LOADING Redis is loading"), kv.ErrUnavailable},
		{"WRONGPASS", live, replyError("WRONGPASS invalid username-password pair"), kv.ErrUnavailable},
		{"NOPERM", live, replyError("NOPERM no permissions"), nil},
		{"other reply", live, replyError("ERR syntax error"), nil},
		{"reply with a done context", cancelled, replyError("ERR syntax error"), nil},
		{"EOF", live, io.EOF, kv.ErrUnavailable},
		{"unexpected EOF", live, io.ErrUnexpectedEOF, kv.ErrUnavailable},
		{"refused", live, opErr("dial", os.NewSyscallError("connect", syscall.ECONNREFUSED)), kv.ErrUnavailable},
		{"reset", live, opErr("read", os.NewSyscallError("read", syscall.ECONNRESET)), kv.ErrUnavailable},
		{"broken pipe", live, opErr("write", os.NewSyscallError("write", syscall.EPIPE)), kv.ErrUnavailable},
		{"timeout", live, opErr("read", os.ErrDeadlineExceeded), kv.ErrUnavailable},
		{"pool timeout", live, redis.ErrPoolTimeout, kv.ErrUnavailable},
		{"closed client", live, redis.ErrClosed, kv.ErrUnavailable},
		{"client's own timeout", live, context.DeadlineExceeded, kv.ErrUnavailable},
		{"caller's cancellation", cancelled, context.Canceled, context.Canceled},
		{"caller's deadline as a socket timeout", cancelled, opErr("read", os.ErrDeadlineExceeded), context.Canceled},
		{"protocol error", live, errors.New("redis: can't parse reply"), nil},
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
		if !strings.HasPrefix(err.Error(), `goredis: get "k": `) {
			t.Errorf("%s: error text %q", tt.name, err)
		}
	}
}
