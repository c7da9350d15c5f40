package rediskv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
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
	groups := checkGroups(t, keys)
	var firstSlots []int
	for _, g := range groups {
		firstSlots = append(firstSlots, g.Slot)
	}
	// bar and foo{bar}{zap} share slot 5061; foo twice; {user1000}.* share a slot.
	if want := []int{Slot("foo"), Slot("{user1000}"), 5061, Slot("x")}; !slices.Equal(firstSlots, want) {
		t.Errorf("group slots = %v, want %v (order of first appearance)", firstSlots, want)
	}
	// Enough keys for the groups to be found with a map, some sharing slots.
	var many []string
	for i := range 3 * linearGroupMax {
		many = append(many, fmt.Sprintf("k:%d", i), fmt.Sprintf("{t%d}:%d", i%7, i))
	}
	checkGroups(t, many)
	// A group's keys cannot be appended to over the next group's.
	groups = GroupBySlot([]string{"a", "b"})
	if grown := append(groups[0].Keys, "c"); grown[1] != "c" || groups[1].Keys[0] != "b" {
		t.Errorf("appending to a group's keys changed the next group's: %+v", groups)
	}
}

// checkGroups checks GroupBySlot(keys) against a plain grouping, and returns
// the groups.
func checkGroups(t *testing.T, keys []string) []SlotGroup {
	t.Helper()
	var want []SlotGroup
	index := make(map[int]int)
	for i, k := range keys {
		slot := Slot(k)
		g, ok := index[slot]
		if !ok {
			g = len(want)
			index[slot] = g
			want = append(want, SlotGroup{Slot: slot})
		}
		want[g].Keys = append(want[g].Keys, k)
		want[g].Pos = append(want[g].Pos, i)
	}
	groups := GroupBySlot(keys)
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("GroupBySlot(%d keys) =\n%+v\nwant\n%+v", len(keys), groups, want)
	}
	return groups
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
