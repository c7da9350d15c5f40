package backendtest

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/cledar/storekit/kv"
)

// A ClassifyCase is an error a client returned for a call made with Ctx,
// and what a backend must take it for: Want is a kv sentinel, the context's
// error, or nil for an operation error.
type ClassifyCase struct {
	Name string
	Ctx  context.Context
	Err  error
	Want error
}

// TransportCases are the cases that every Redis backend classifies alike,
// whatever its client: network failures, and the client's or the caller's
// timeouts and cancellations.
func TransportCases() []ClassifyCase {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	opErr := func(op string, err error) error { return &net.OpError{Op: op, Net: "tcp", Err: err} }
	return []ClassifyCase{
		{"EOF", live, io.EOF, kv.ErrUnavailable},
		{"unexpected EOF", live, io.ErrUnexpectedEOF, kv.ErrUnavailable},
		{"refused", live, opErr("dial", os.NewSyscallError("connect", syscall.ECONNREFUSED)), kv.ErrUnavailable},
		{"reset", live, opErr("read", os.NewSyscallError("read", syscall.ECONNRESET)), kv.ErrUnavailable},
		{"broken pipe", live, opErr("write", os.NewSyscallError("write", syscall.EPIPE)), kv.ErrUnavailable},
		{"timeout", live, opErr("read", os.ErrDeadlineExceeded), kv.ErrUnavailable},
		{"client's own timeout", live, context.DeadlineExceeded, kv.ErrUnavailable},
		{"caller's cancellation", cancelled, context.Canceled, context.Canceled},
		{"caller's deadline as a socket timeout", cancelled, opErr("read", os.ErrDeadlineExceeded), context.Canceled},
	}
}

// CheckClassify checks a backend's classify and wrapErr on every case:
// classify returns Want, and the error wrapErr makes for the operation
// `get "k"` wraps both the client's error and Want and starts with
// `<backend>: get "k": `.
func CheckClassify(t *testing.T, backend string, cases []ClassifyCase,
	classify func(context.Context, error) error, wrapErr func(ctx context.Context, op string, err error) error) {
	t.Helper()
	for _, tt := range cases {
		if got := classify(tt.Ctx, tt.Err); got != tt.Want {
			t.Errorf("%s: classify(%v) = %v, want %v", tt.Name, tt.Err, got, tt.Want)
		}
		err := wrapErr(tt.Ctx, `get "k"`, tt.Err)
		if !errors.Is(err, tt.Err) {
			t.Errorf("%s: %v does not wrap the native error", tt.Name, err)
		}
		if tt.Want != nil && !errors.Is(err, tt.Want) {
			t.Errorf("%s: %v does not wrap %v", tt.Name, err, tt.Want)
		}
		if !strings.HasPrefix(err.Error(), backend+`: get "k": `) {
			t.Errorf("%s: error text %q", tt.Name, err)
		}
	}
}
