package goredis

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
	"go.uber.org/zap"
)

// RouteClientLogs sends go-redis's own messages, which it writes to
// standard error by default (such as "connection pool: failed to dial after
// 5 attempts" during an outage), to log at the Warn level, so that a
// service has one place for its logs; a nil log discards them.
//
// go-redis has one logger for the whole process (redis.SetLogger), so this
// applies to every go-redis client of the process, not only to those under
// a Store: call it once, at start-up. [Options.Logger] receives the store's
// own messages either way.
func RouteClientLogs(log *zap.Logger) {
	if log == nil {
		logging.Disable()
		return
	}
	redis.SetLogger(clientLogger{log})
}

// clientLogger is go-redis's logger interface over zap.
type clientLogger struct{ log *zap.Logger }

func (l clientLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Warn("go-redis: " + strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
}
