package rueidiskv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/rediskv"
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
	backendtest.CheckClassify(t, "rueidiskv", append(backendtest.TransportCases(), []backendtest.ClassifyCase{
		{Name: "nil reply", Ctx: live, Err: rueidis.Nil, Want: kv.ErrNotFound},
		{Name: "wrapped nil reply", Ctx: live, Err: fmt.Errorf("x: %w", rueidis.Nil), Want: kv.ErrNotFound},
		{Name: "WRONGTYPE", Ctx: live, Err: replyError(t, "WRONGTYPE Operation against a key"), Want: kv.ErrWrongType},
		{Name: "LOADING", Ctx: live, Err: replyError(t, "LOADING Redis is loading"), Want: kv.ErrUnavailable},
		{Name: "WRONGPASS", Ctx: live, Err: replyError(t, "WRONGPASS invalid username-password pair"), Want: kv.ErrPermission},
		{Name: "too many clients, ERR stripped", Ctx: live, Err: replyError(t, "ERR max number of clients reached"), Want: kv.ErrUnavailable},
		{Name: "NOPERM", Ctx: live, Err: replyError(t, "NOPERM no permissions"), Want: kv.ErrPermission},
		{Name: "OOM", Ctx: live, Err: replyError(t, "OOM command not allowed when used memory > 'maxmemory'."), Want: kv.ErrFull},
		{Name: "other reply", Ctx: live, Err: replyError(t, "ERR syntax error")},
		{Name: "reply with a done context", Ctx: cancelled, Err: replyError(t, "ERR syntax error")},
		{Name: "closed client", Ctx: live, Err: rueidis.ErrClosing, Want: kv.ErrUnavailable},
		{Name: "cached read aborted", Ctx: live, Err: rueidis.ErrDoCacheAborted, Want: kv.ErrUnavailable},
		{Name: "no cache support", Ctx: live, Err: rueidis.ErrNoCache, Want: kv.ErrNotSupported},
		{Name: "tracking denied", Ctx: live, Want: kv.ErrPermission,
			Err: fmt.Errorf("NOPERM this user has no permissions to run the 'client|tracking' command: [CLIENT TRACKING ON OPTIN]\n%w", rueidis.ErrNoCache)},
		{Name: "caller's passed deadline, not yet reported", Ctx: passed, Err: opErr("dial", os.ErrDeadlineExceeded), Want: context.DeadlineExceeded},
		{Name: "protocol error", Ctx: live, Err: errors.New("unexpected reply")},
	}...), classify, func(ctx context.Context, op string, err error) error {
		return rediskv.Err(ctx, rediskv.New(&adapter{}, "rueidiskv", redisconf.Options{}, rediskv.Hooks{}), op, err)
	})
}
