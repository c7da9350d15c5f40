package rediskv

import (
	"slices"
	"strings"
)

// SlotCount is the number of hash slots of a Redis Cluster.
const SlotCount = 16384

// crcTable is the CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0)
// table that Redis Cluster uses.
var crcTable = makeCRCTable()

func makeCRCTable() *[256]uint16 {
	var t [256]uint16
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return &t
}

func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^s[i]]
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
// The groups' Keys and Pos share two backing arrays, each group's capped at
// its length, so a call of many keys over many slots (100 keys over about
// 100 slots is the common case of a bulk call on a cluster) allocates a
// handful of times rather than twice per slot.
func GroupBySlot(keys []string) []SlotGroup {
	if len(keys) == 0 {
		return nil
	}
	// gid[i] is the group of keys[i]; groups are numbered in the order of
	// their first key.
	gid := make([]int32, len(keys))
	var slots []uint16 // the slot of each group
	var index map[uint16]int32
	if len(keys) > linearGroupMax {
		index = make(map[uint16]int32)
	}
	for i, k := range keys {
		slot := uint16(Slot(k))
		g := int32(-1)
		if index != nil {
			if x, ok := index[slot]; ok {
				g = x
			}
		} else if x := slices.Index(slots, slot); x >= 0 {
			g = int32(x)
		}
		if g < 0 {
			g = int32(len(slots))
			slots = append(slots, slot)
			if index != nil {
				index[slot] = g
			}
		}
		gid[i] = g
	}
	// start[g] is where group g begins in the backing arrays.
	start := make([]int, len(slots)+1)
	for _, g := range gid {
		start[g+1]++
	}
	for g := range slots {
		start[g+1] += start[g]
	}
	flatKeys := make([]string, len(keys))
	flatPos := make([]int, len(keys))
	next := slices.Clone(start[:len(slots)])
	for i, g := range gid {
		flatKeys[next[g]] = keys[i]
		flatPos[next[g]] = i
		next[g]++
	}
	groups := make([]SlotGroup, len(slots))
	for g, slot := range slots {
		lo, hi := start[g], start[g+1]
		groups[g] = SlotGroup{Slot: int(slot), Keys: flatKeys[lo:hi:hi], Pos: flatPos[lo:hi:hi]}
	}
	return groups
}

// linearGroupMax is the number of keys up to which GroupBySlot finds a
// key's group by a scan of the groups so far, which for so few keys costs
// less than a map.
const linearGroupMax = 128
