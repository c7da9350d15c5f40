package rediswatch

import (
	"strings"
	"testing"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// TestKeyspaceEvents checks EventOp and KeyFromChannel against the
// notifications a real Redis sends for the commands storekit uses.
func TestKeyspaceEvents(t *testing.T) {
	srv := redistest.Start(t, &redistest.Options{Args: []string{"--notify-keyspace-events", RequiredNotifyClasses}})
	sub := srv.Subscribe(t, KeyspaceChannelPattern(0, "ev:*"))
	steps := []struct {
		cmd []string
		op  kv.Op
	}{
		{[]string{"SET", "ev:k", "v"}, kv.OpSet},
		{[]string{"SET", "ev:k", "v", "PX", "100000"}, kv.OpSet},
		{nil, kv.OpExpire},
		{[]string{"DEL", "ev:k"}, kv.OpDelete},
		{[]string{"RPUSH", "ev:k", "v"}, kv.OpAppend},
		{[]string{"UNLINK", "ev:k"}, kv.OpDelete},
		{[]string{"INCR", "ev:k"}, kv.OpSet},
		{[]string{"PERSIST", "ev:k"}, 0}, // no expiry: no event
		{[]string{"EXPIRE", "ev:k", "100"}, kv.OpExpire},
		{[]string{"PERSIST", "ev:k"}, kv.OpOther},
		{[]string{"RENAME", "ev:k", "ev:k2"}, kv.OpDelete},
		{nil, kv.OpSet}, // rename_to on ev:k2
		{[]string{"PEXPIRE", "ev:k2", "1"}, kv.OpExpire},
		{nil, kv.OpExpired},
	}
	for _, st := range steps {
		if st.cmd != nil {
			srv.MustDo(st.cmd...)
		}
		if st.op == 0 {
			continue
		}
		ch, event := sub.Next(t)
		key, ok := KeyFromChannel(ch)
		op, ok2 := EventOp(event)
		if !ok || !ok2 || op != st.op || !strings.HasPrefix(key, "ev:k") {
			t.Errorf("after %v: notification %q on %q maps to %v %q (%v, %v), want %v", st.cmd, event, ch, op, key, ok, ok2, st.op)
		}
	}
}
