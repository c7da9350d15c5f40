package rediswatch

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cledar/storekit/kv"
)

// EventOp maps the event name of a keyspace notification (the message
// published on a __keyspace@<db>__:<key> channel) to a [kv.Op].
//
// It reports false for notifications that are not changes and must not be
// forwarded: "new" (key creation, always followed by the event of the command
// that created it) and "keymiss" (a read of a missing key).
//
//	set setrange incrby incrbyfloat append lset        OpSet
//	rename_to copy_to move_to restore                  OpSet (the key got a whole new value)
//	del evicted rename_from move_from                  OpDelete (UNLINK reports "del")
//	expire                                             OpExpire (every EXPIRE variant)
//	expired                                            OpExpired
//	rpush lpush linsert                                OpAppend (RPUSHX and LPUSHX report rpush and lpush)
//	anything else (persist, ltrim, hset, ...)          OpOther
func EventOp(event string) (kv.Op, bool) {
	switch event {
	case "set", "setrange", "incrby", "incrbyfloat", "append", "lset",
		"rename_to", "copy_to", "move_to", "restore":
		return kv.OpSet, true
	case "del", "evicted", "rename_from", "move_from":
		return kv.OpDelete, true
	case "expire":
		return kv.OpExpire, true
	case "expired":
		return kv.OpExpired, true
	case "rpush", "lpush", "linsert":
		return kv.OpAppend, true
	case "new", "keymiss":
		return 0, false
	default:
		return kv.OpOther, true
	}
}

// KeyspaceEvent returns the event a watch of pattern reports for the
// keyspace notification message published on channel, and false when it
// reports none: channel is not a keyspace channel, its key does not match
// pattern, or the notification is not a change (see [EventOp]).
//
// The key is matched with [kv.Match]: the server matches the pattern
// against the whole channel name, which makes a pattern such as "**" match
// the empty key; kv.Match, like SCAN, does not.
func KeyspaceEvent(pattern, channel, message string) (kv.Event, bool) {
	key, ok := KeyFromChannel(channel)
	if !ok || !kv.Match(pattern, key) {
		return kv.Event{}, false
	}
	op, ok := EventOp(message)
	if !ok {
		return kv.Event{}, false
	}
	return kv.Event{Op: op, Key: key}, true
}

const keyspacePrefix = "__keyspace@"

// KeyspaceChannelPattern returns the PSUBSCRIBE pattern that receives the
// keyspace notifications of database db for the keys that match pattern, a
// Redis glob pattern. The channel prefix holds no glob characters, so the
// pattern applies to the key exactly as SCAN MATCH would.
func KeyspaceChannelPattern(db int, pattern string) string {
	return keyspacePrefix + strconv.Itoa(db) + "__:" + pattern
}

// KeyFromChannel returns the key of a keyspace notification channel such as
// "__keyspace@0__:user:1", and false if channel is not a keyspace channel.
// The key is everything after the first "__:" that follows the database
// number, so keys holding "__:" themselves come back whole.
func KeyFromChannel(channel string) (string, bool) {
	rest, ok := strings.CutPrefix(channel, keyspacePrefix)
	if !ok {
		return "", false
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 {
		return "", false
	}
	key, ok := strings.CutPrefix(rest[i:], "__:")
	return key, ok
}

// RequiredNotifyClasses are the notify-keyspace-events classes a watch needs:
// K (keyspace channels), g (del, expire, rename), $ (string commands),
// l (list commands, for history appends) and x (expired).
const RequiredNotifyClasses = "Kg$lx"

// notifyAll is what the class A stands for.
const notifyAll = "g$lshztxed"

// MissingNotifyClasses returns the classes of [RequiredNotifyClasses] that
// the notify-keyspace-events value lacks, in that order; "" means none is
// missing. The class A counts as g$lshztxed.
func MissingNotifyClasses(value string) string {
	have := value
	if strings.ContainsRune(value, 'A') {
		have += notifyAll
	}
	var missing []byte
	for i := 0; i < len(RequiredNotifyClasses); i++ {
		if c := RequiredNotifyClasses[i]; strings.IndexByte(have, c) < 0 {
			missing = append(missing, c)
		}
	}
	return string(missing)
}

// MergeNotifyClasses returns value with the missing required classes added:
// the value to CONFIG SET so that a watch works without turning off anything
// that was on.
func MergeNotifyClasses(value string) string {
	return value + MissingNotifyClasses(value)
}

// CheckNotifyConfig returns nil when the notify-keyspace-events value holds
// every class a watch needs, and a *[NotifyConfigError] naming the missing
// ones otherwise.
func CheckNotifyConfig(value string) error {
	if missing := MissingNotifyClasses(value); missing != "" {
		return &NotifyConfigError{Value: value, Missing: missing}
	}
	return nil
}

// A NotifyConfigError reports a server whose notify-keyspace-events setting
// lacks classes that a watch needs. It wraps [kv.ErrNotSupported]: the server,
// as configured, cannot report changes.
type NotifyConfigError struct {
	// Value is the server's notify-keyspace-events setting.
	Value string
	// Missing lists the missing classes, such as "K$x".
	Missing string
}

// Error names the missing classes and how to turn them on.
func (e *NotifyConfigError) Error() string {
	return fmt.Sprintf("redis notify-keyspace-events is %q, which lacks the classes %q that watching needs: "+
		"run CONFIG SET notify-keyspace-events KEA on the server (or add %q to its current setting, "+
		"in redis.conf to survive restarts), or enable the store's EnableKeyspaceEvents option",
		e.Value, e.Missing, e.Missing)
}

// Unwrap returns [kv.ErrNotSupported].
func (e *NotifyConfigError) Unwrap() error { return kv.ErrNotSupported }
