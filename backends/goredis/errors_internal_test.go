package goredis

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/kv"
)

// replyError is an error reply as go-redis returns it.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

func TestClassify(t *testing.T) {
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	backendtest.CheckClassify(t, "goredis", append(backendtest.TransportCases(), []backendtest.ClassifyCase{
		{Name: "nil reply", Ctx: live, Err: redis.Nil, Want: kv.ErrNotFound},
		{Name: "wrapped nil reply", Ctx: live, Err: fmt.Errorf("x: %w", redis.Nil), Want: kv.ErrNotFound},
		{Name: "WRONGTYPE", Ctx: live, Err: replyError("WRONGTYPE Operation against a key"), Want: kv.ErrWrongType},
		{Name: "LOADING", Ctx: live, Err: replyError("LOADING Redis is loading"), Want: kv.ErrUnavailable},
		{Name: "WRONGPASS", Ctx: live, Err: replyError("WRONGPASS invalid username-password pair"), Want: kv.ErrPermission},
		{Name: "NOPERM", Ctx: live, Err: replyError("NOPERM no permissions"), Want: kv.ErrPermission},
		{Name: "OOM", Ctx: live, Err: replyError("OOM command not allowed when used memory > 'maxmemory'."), Want: kv.ErrFull},
		{Name: "other reply", Ctx: live, Err: replyError("ERR syntax error")},
		{Name: "reply with a done context", Ctx: cancelled, Err: replyError("ERR syntax error")},
		{Name: "pool timeout", Ctx: live, Err: redis.ErrPoolTimeout, Want: kv.ErrUnavailable},
		{Name: "closed client", Ctx: live, Err: redis.ErrClosed, Want: kv.ErrUnavailable},
		{Name: "protocol error", Ctx: live, Err: errors.New("redis: can't parse reply")},
	}...), classify, func(ctx context.Context, op string, err error) error {
		return rediskv.Err(ctx, New(cluster, nil).redisStore, op, err)
	})
}
