package rediskv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

func TestReplySentinel(t *testing.T) {
	tests := []struct {
		msg  string
		want error
	}{
		{"WRONGTYPE Operation against a key holding the wrong kind of value", kv.ErrWrongType},
		{"ERR WRONGTYPE Operation against a key", kv.ErrWrongType},
		{"NOAUTH Authentication required.", kv.ErrPermission},
		{"WRONGPASS invalid username-password pair or user is disabled.", kv.ErrPermission},
		{"LOADING Redis is loading the dataset in memory", kv.ErrUnavailable},
		{"BUSY Redis is busy running a script.", kv.ErrUnavailable},
		{"MASTERDOWN Link with MASTER is down", kv.ErrUnavailable},
		{"CLUSTERDOWN The cluster is down", kv.ErrUnavailable},
		{"TRYAGAIN Multiple keys request during rehashing of slot", kv.ErrUnavailable},
		{"READONLY You can't write against a read only replica.", kv.ErrUnavailable},
		{"NOREPLICAS Not enough good replicas to write.", kv.ErrUnavailable},
		{"ERR max number of clients reached", kv.ErrUnavailable},
		{"max number of clients reached", kv.ErrUnavailable}, // with the ERR stripped by the client
		{"NOPERM User u has no permissions to run the 'get' command", kv.ErrPermission},
		{"OOM command not allowed when used memory > 'maxmemory'.", kv.ErrFull},
		{"ERR OOM command not allowed", kv.ErrFull},
		{"BUSYKEY Target key name already exists.", nil},
		{"BUSYGROUP Consumer Group name already exists", nil},
		{"ERR unknown command 'config'", nil},
		{"CROSSSLOT Keys in request don't hash to the same slot", nil},
		{"WRONGTYPEX nope", nil},
		{"", nil},
		{"ERR", nil},
	}
	for _, tt := range tests {
		if got := ReplySentinel(tt.msg); got != tt.want {
			t.Errorf("ReplySentinel(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

func TestIsTransportError(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{io.EOF, true},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("write: %w", syscall.EPIPE), true},
		{os.ErrDeadlineExceeded, true},
		{context.DeadlineExceeded, true},
		{errors.New("WRONGTYPE Operation against a key"), false},
		{errors.New("ERR unknown command"), false},
	} {
		if got := IsTransportError(tt.err); got != tt.want {
			t.Errorf("IsTransportError(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// lateContext has a deadline in the past but does not report it yet, as a
// context may for a moment after a socket deadline set from it fired.
type lateContext struct{ context.Context }

func (lateContext) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func TestContextError(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	later, cancelLater := context.WithTimeout(context.Background(), time.Hour)
	defer cancelLater()
	for name, tc := range map[string]struct {
		ctx  context.Context
		want error
	}{
		"live":             {context.Background(), nil},
		"cancelled":        {cancelled, context.Canceled},
		"deadline passed":  {lateContext{context.Background()}, context.DeadlineExceeded},
		"deadline not yet": {later, nil},
	} {
		if got := ContextError(tc.ctx); got != tc.want {
			t.Errorf("%s: ContextError = %v, want %v", name, got, tc.want)
		}
	}
}
