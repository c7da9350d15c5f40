package rediskv

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

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
	// Eight bytes at a step agree with a byte at a time, at every length
	// and alignment of the tail.
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 70 {
		for range 20 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			if got, want := crc16(string(b)), crc16Bytewise(b); got != want {
				t.Fatalf("crc16(%q) = %#x, a byte at a time %#x", b, got, want)
			}
		}
	}
}

// TestSlotKey checks that the key SlotKey gives for each slot is of that
// slot, by the CRC a bit at a time, and two bytes long.
func TestSlotKey(t *testing.T) {
	for slot := range SlotCount {
		k := SlotKey(slot)
		if got := int(crc16Bytewise([]byte(k))) & (SlotCount - 1); len(k) != 2 || got != slot || Slot(k) != slot {
			t.Fatalf("SlotKey(%d) = %q, of slot %d (Slot: %d), want two bytes of slot %d", slot, k, got, Slot(k), slot)
		}
	}
}

// crc16Bytewise is the CRC16/XMODEM of b by its definition, a bit at a time.
func crc16Bytewise(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
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
	for i := range 3 * smallGroup {
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

// BenchmarkGroupBySlot groups a bulk call's 100 keys, which share a prefix
// and fall in about 100 slots, as on a cluster.
func BenchmarkGroupBySlot(b *testing.B) {
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("app:session:%08d", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		GroupBySlot(keys)
	}
}
