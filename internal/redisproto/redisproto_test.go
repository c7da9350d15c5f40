package redisproto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

func TestEventOp(t *testing.T) {
	tests := []struct {
		event string
		op    kv.Op
		ok    bool
	}{
		{"set", kv.OpSet, true},
		{"setrange", kv.OpSet, true},
		{"incrby", kv.OpSet, true},
		{"incrbyfloat", kv.OpSet, true},
		{"append", kv.OpSet, true},
		{"lset", kv.OpSet, true},
		{"rename_to", kv.OpSet, true},
		{"copy_to", kv.OpSet, true},
		{"restore", kv.OpSet, true},
		{"del", kv.OpDelete, true},
		{"evicted", kv.OpDelete, true},
		{"rename_from", kv.OpDelete, true},
		{"move_from", kv.OpDelete, true},
		{"expire", kv.OpExpire, true},
		{"expired", kv.OpExpired, true},
		{"rpush", kv.OpAppend, true},
		{"lpush", kv.OpAppend, true},
		{"linsert", kv.OpAppend, true},
		{"persist", kv.OpOther, true},
		{"ltrim", kv.OpOther, true},
		{"hset", kv.OpOther, true},
		{"", kv.OpOther, true},
		{"new", 0, false},
		{"keymiss", 0, false},
	}
	for _, tt := range tests {
		op, ok := EventOp(tt.event)
		if op != tt.op || ok != tt.ok {
			t.Errorf("EventOp(%q) = %v, %v; want %v, %v", tt.event, op, ok, tt.op, tt.ok)
		}
	}
}

func TestKeyspaceChannel(t *testing.T) {
	if got, want := KeyspaceChannelPattern(0, "user:*"), "__keyspace@0__:user:*"; got != want {
		t.Errorf("KeyspaceChannelPattern(0, user:*) = %q, want %q", got, want)
	}
	if got, want := KeyspaceChannelPattern(15, ""), "__keyspace@15__:"; got != want {
		t.Errorf("KeyspaceChannelPattern(15, \"\") = %q, want %q", got, want)
	}
	for _, key := range []string{"", "k", "a__:b", "__keyspace@0__:x", "\x00\xff", "sp ace\n"} {
		for _, db := range []int{0, 3, 12} {
			ch := KeyspaceChannelPattern(db, key) // a key is also a literal channel suffix
			got, ok := KeyFromChannel(ch)
			if !ok || got != key {
				t.Errorf("KeyFromChannel(%q) = %q, %v; want %q, true", ch, got, ok, key)
			}
		}
	}
	for _, ch := range []string{"", "__keyspace@", "__keyspace@__:k", "__keyevent@0__:set", "__keyspace@0_:k", "__keyspace@x__:k", "other"} {
		if k, ok := KeyFromChannel(ch); ok {
			t.Errorf("KeyFromChannel(%q) = %q, true; want false", ch, k)
		}
	}
}

func TestKeyspaceEvent(t *testing.T) {
	for _, tt := range []struct {
		pattern, channel, message string
		want                      kv.Event
		ok                        bool
	}{
		{"user:*", "__keyspace@0__:user:1", "set", kv.Event{Op: kv.OpSet, Key: "user:1"}, true},
		{"user:*", "__keyspace@3__:user:1", "rpush", kv.Event{Op: kv.OpAppend, Key: "user:1"}, true},
		{"user:*", "__keyspace@0__:other", "set", kv.Event{}, false},  // key does not match
		{"user:*", "__keyspace@0__:user:1", "new", kv.Event{}, false}, // not a change
		{"user:*", "__keyevent@0__:set", "user:1", kv.Event{}, false}, // not a keyspace channel
		{"**", "__keyspace@0__:", "set", kv.Event{}, false},           // the server's match, not kv.Match's
		{"**", "__keyspace@0__:x", "del", kv.Event{Op: kv.OpDelete, Key: "x"}, true},
	} {
		got, ok := KeyspaceEvent(tt.pattern, tt.channel, tt.message)
		if got != tt.want || ok != tt.ok {
			t.Errorf("KeyspaceEvent(%q, %q, %q) = %v, %v; want %v, %v", tt.pattern, tt.channel, tt.message, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNotifyConfig(t *testing.T) {
	tests := []struct{ value, missing string }{
		{"", "Kg$lx"},
		{"KEA", ""},
		{"AKE", ""},
		{"KA", ""},
		{"Kg$lx", ""},
		{"xl$gK", ""},
		{"EA", "K"},
		{"Ex", "Kg$l"},
		{"K$", "glx"},
		{"Kg$l", "x"},
		{"Kg$lshzted", "x"},
	}
	for _, tt := range tests {
		if got := MissingNotifyClasses(tt.value); got != tt.missing {
			t.Errorf("MissingNotifyClasses(%q) = %q, want %q", tt.value, got, tt.missing)
		}
		merged := MergeNotifyClasses(tt.value)
		if !strings.HasPrefix(merged, tt.value) || MissingNotifyClasses(merged) != "" {
			t.Errorf("MergeNotifyClasses(%q) = %q: lost the old classes or still misses some", tt.value, merged)
		}
		err := CheckNotifyConfig(tt.value)
		if (err == nil) != (tt.missing == "") {
			t.Errorf("CheckNotifyConfig(%q) = %v, want an error: %v", tt.value, err, tt.missing != "")
			continue
		}
		if err == nil {
			continue
		}
		var nce *NotifyConfigError
		if !errors.As(err, &nce) || nce.Missing != tt.missing || nce.Value != tt.value {
			t.Errorf("CheckNotifyConfig(%q) = %#v, want a *NotifyConfigError missing %q", tt.value, err, tt.missing)
		}
		if !errors.Is(err, kv.ErrNotSupported) {
			t.Errorf("CheckNotifyConfig(%q) does not wrap kv.ErrNotSupported", tt.value)
		}
		msg := err.Error()
		for _, want := range []string{"CONFIG SET notify-keyspace-events KEA", tt.missing, "EnableKeyspaceEvents"} {
			if !strings.Contains(msg, want) {
				t.Errorf("CheckNotifyConfig(%q) error %q does not mention %q", tt.value, msg, want)
			}
		}
	}
}

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

func TestSlot(t *testing.T) {
	// Values from CLUSTER KEYSLOT on redis-server 7.0.15.
	tests := []struct {
		key  string
		slot int
	}{
		{"foo", 12182},
		{"bar", 5061},
		{"", 0},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"foo{}{bar}", 8363},
		{"foo{{bar}}zap", 4015},
		{"foo{bar}{zap}", 5061},
		{"{}", 15257},
		{"{", 4092},
		{"}", 12090},
		{"a{b", 13340},
		{"123456789", 12739},
		{"hello world", 15332},
		{"{a}b", 15495},
		{"x{}y{a}", 9172},
		{"\xff\xfe", 3374},
		{"user:1", 10778},
		{"key:{}:x", 1382},
		{"{{}}", 4092},
	}
	for _, tt := range tests {
		if got := Slot(tt.key); got != tt.slot {
			t.Errorf("Slot(%q) = %d, want %d", tt.key, got, tt.slot)
		}
	}
	// CRC16/XMODEM check value.
	if got := crc16("123456789"); got != 0x31C3 {
		t.Errorf("crc16(123456789) = %#x, want 0x31c3", got)
	}
}

func TestGroupBySlot(t *testing.T) {
	if g := GroupBySlot(nil); len(g) != 0 {
		t.Errorf("GroupBySlot(nil) = %v, want no groups", g)
	}
	keys := []string{"foo", "{user1000}.a", "bar", "foo{bar}{zap}", "{user1000}.b", "foo", "x"}
	groups := GroupBySlot(keys)
	seen := make([]bool, len(keys))
	var firstSlots []int
	for _, g := range groups {
		firstSlots = append(firstSlots, g.Slot)
		if len(g.Keys) != len(g.Pos) || len(g.Keys) == 0 {
			t.Fatalf("group %+v: Keys and Pos differ in length or are empty", g)
		}
		if !slices.IsSorted(g.Pos) {
			t.Errorf("group %+v: positions out of order", g)
		}
		for i, k := range g.Keys {
			p := g.Pos[i]
			if keys[p] != k || Slot(k) != g.Slot || seen[p] {
				t.Errorf("group %+v: key %q at position %d is wrong or repeated", g, k, p)
			}
			seen[p] = true
		}
	}
	for i, ok := range seen {
		if !ok {
			t.Errorf("key %d (%q) is in no group", i, keys[i])
		}
	}
	// bar and foo{bar}{zap} share slot 5061; foo twice; {user1000}.* share a slot.
	if want := []int{Slot("foo"), Slot("{user1000}"), 5061, Slot("x")}; !slices.Equal(firstSlots, want) {
		t.Errorf("group slots = %v, want %v (order of first appearance)", firstSlots, want)
	}
}

func FuzzSlot(f *testing.F) {
	for _, s := range []string{"", "{", "}", "{}", "{a}", "a{b}c", "{{}}", "\xff{\x00}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		s := Slot(key)
		if s < 0 || s >= SlotCount {
			t.Fatalf("Slot(%q) = %d out of range", key, s)
		}
		if open := strings.IndexByte(key, '{'); open >= 0 {
			if n := strings.IndexByte(key[open+1:], '}'); n > 0 {
				tag := key[open+1 : open+1+n]
				if Slot("{"+tag+"}") != s {
					t.Fatalf("Slot(%q) = %d differs from the slot of its tag %q", key, s, tag)
				}
			}
		}
	})
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
