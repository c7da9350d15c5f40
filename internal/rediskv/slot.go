package rediskv

import (
	"strings"
	"sync"
)

// SlotCount is the number of hash slots of a Redis Cluster.
const SlotCount = 16384

// crcTables are the CRC16-CCITT (XMODEM: polynomial 0x1021, initial value
// 0) tables that Redis Cluster uses, for eight bytes at a step:
// crcTables[k][b] is the CRC of byte b followed by k zero bytes. A bulk call
// of 100 keys computes 100 slots, and a byte at a time that was a tenth of
// the client's CPU on a cluster.
var crcTables = makeCRCTables()

func makeCRCTables() *[8][256]uint16 {
	var t [8][256]uint16
	for i := range t[0] {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[0][i] = crc
	}
	for k := 1; k < len(t); k++ {
		for i := range t[k] {
			prev := t[k-1][i]
			t[k][i] = prev<<8 ^ t[0][prev>>8]
		}
	}
	return &t
}

// crc16 is the CRC16/XMODEM of s. Eight bytes at a step: the register's two
// bytes are folded into the first two, and each byte's contribution is
// looked up already shifted by the bytes after it.
func crc16(s string) uint16 {
	t := crcTables
	var crc uint16
	for len(s) >= 8 {
		_ = s[7]
		x := uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
			uint64(s[4])<<24 | uint64(s[5])<<16 | uint64(s[6])<<8 | uint64(s[7])
		x ^= uint64(crc) << 48
		crc = t[7][byte(x>>56)] ^ t[6][byte(x>>48)] ^ t[5][byte(x>>40)] ^ t[4][byte(x>>32)] ^
			t[3][byte(x>>24)] ^ t[2][byte(x>>16)] ^ t[1][byte(x>>8)] ^ t[0][byte(x)]
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		crc = crc<<8 ^ t[0][byte(crc>>8)^s[i]]
	}
	return crc
}

// Slot returns the cluster hash slot of key, as CLUSTER KEYSLOT does: the
// CRC16 of the key modulo 16384, where a key holding a non-empty "{tag}"
// hashes only the tag (the bytes between its first '{' and the first '}'
// after it), so keys sharing a tag share a slot.
func Slot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if n := strings.IndexByte(key[s+1:], '}'); n > 0 {
			key = key[s+1 : s+1+n]
		}
	}
	return int(crc16(key)) & (SlotCount - 1)
}

// SlotKey returns a key of two bytes whose hash slot is slot (0 to
// SlotCount-1). A client library that routes a command by hashing a key it
// is given (rueidis's Completed.SetSlot) hashes it instead of a key of that
// slot when the slot is known already, as it is for the groups of
// [GroupBySlot]: two bytes instead of the whole key. rueidis hashes a byte
// at a time: a tenth of the CPU samples of a bulk delete of 100 keys on a
// cluster went to its CRC of the keys the store had hashed already.
func SlotKey(slot int) string {
	keys := slotKeys()
	return keys[2*slot : 2*slot+2]
}

// slotKeys returns the keys of SlotKey, two bytes a slot in slot order:
// for each slot the first two-byte string (in the order of its value as a
// big-endian number) that hashes to it. The CRC16 of two bytes is a
// bijection of 16-bit values, so every slot has four such strings, and none
// holds a hash tag, which needs three bytes at least. Built at the first
// call: 64 KiB of CRCs, 32 KiB kept.
var slotKeys = sync.OnceValue(func() string {
	keys := make([]byte, 2*SlotCount)
	var found [SlotCount / 8]byte
	for x := range 1 << 16 {
		k := [2]byte{byte(x >> 8), byte(x)}
		slot := int(crc16(string(k[:]))) & (SlotCount - 1)
		if found[slot/8]&(1<<(slot%8)) == 0 {
			found[slot/8] |= 1 << (slot % 8)
			keys[2*slot], keys[2*slot+1] = k[0], k[1]
		}
	}
	return string(keys)
})

// A SlotGroup is the keys of one hash slot, with their positions in the list
// they came from.
type SlotGroup struct {
	// Slot is the hash slot of every key of the group.
	Slot int
	// Keys are the keys, in their original order; duplicates are kept.
	Keys []string
	// Pos[i] is the index of Keys[i] in the original list.
	Pos []int
}

// GroupBySlot splits keys by hash slot. Groups come in the order of their
// first key in keys; every key appears in exactly one group, at one
// position, so results per group can be written back in the original order.
//
// A call of many keys over many slots (100 keys over about 100 slots is the
// common case of a bulk call on a cluster) allocates three times: the groups
// and, shared by all groups and each group's capped at its length, the keys
// and the positions; when every key has a slot of its own, the groups cut
// keys itself instead.
func GroupBySlot(keys []string) []SlotGroup {
	n := len(keys)
	if n == 0 {
		return nil
	}
	// gid[i] is the group of keys[i], slots[g] the slot of group g; groups
	// are numbered in the order of their first key. index finds a slot's
	// group: open addressing on the slot's low bits (a CRC, well spread),
	// holding group+1, 0 when free.
	var gidBuf [smallGroup]int32
	var slotBuf [smallGroup]uint16
	var indexBuf [2 * smallGroup]int32
	gid, slots, index := gidBuf[:0], slotBuf[:0], indexBuf[:]
	if n > smallGroup {
		gid, slots = make([]int32, 0, n), make([]uint16, 0, min(n, SlotCount))
		index = make([]int32, tableSize(min(n, SlotCount)))
	}
	mask := len(index) - 1
	for _, k := range keys {
		slot := uint16(Slot(k))
		j := int(slot) & mask
		for index[j] != 0 && slots[index[j]-1] != slot {
			j = (j + 1) & mask
		}
		if index[j] == 0 {
			slots = append(slots, slot)
			index[j] = int32(len(slots))
		}
		gid = append(gid, index[j]-1)
	}
	groups := make([]SlotGroup, len(slots))
	if len(slots) == n {
		pos := identity(n)
		for i, slot := range slots {
			groups[i] = SlotGroup{Slot: int(slot), Keys: keys[i : i+1 : i+1], Pos: pos[i : i+1 : i+1]}
		}
		return groups
	}
	// end[g] is where group g ends in the shared arrays: first its size,
	// then where it starts, moved forward as its keys are placed.
	var endBuf [smallGroup]int
	end := endBuf[:0]
	if len(slots) > smallGroup {
		end = make([]int, 0, len(slots))
	}
	end = end[:len(slots)]
	clear(end)
	for _, g := range gid {
		end[g]++
	}
	start := 0
	for g, size := range end {
		end[g] = start
		start += size
	}
	flatKeys := make([]string, n)
	flatPos := make([]int, n)
	for i, g := range gid {
		flatKeys[end[g]] = keys[i]
		flatPos[end[g]] = i
		end[g]++
	}
	lo := 0
	for g, slot := range slots {
		hi := end[g]
		groups[g] = SlotGroup{Slot: int(slot), Keys: flatKeys[lo:hi:hi], Pos: flatPos[lo:hi:hi]}
		lo = hi
	}
	return groups
}

// smallGroup is the number of keys up to which GroupBySlot keeps its work
// on the stack.
const smallGroup = 128

// tableSize returns the size of an open-addressing table for n entries: a
// power of two, at least twice n.
func tableSize(n int) int {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return size
}
