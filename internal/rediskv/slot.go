package rediskv

import "strings"

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
func GroupBySlot(keys []string) []SlotGroup {
	var groups []SlotGroup
	index := make(map[int]int) // slot → index in groups
	for i, k := range keys {
		slot := Slot(k)
		g, ok := index[slot]
		if !ok {
			g = len(groups)
			index[slot] = g
			groups = append(groups, SlotGroup{Slot: slot})
		}
		groups[g].Keys = append(groups[g].Keys, k)
		groups[g].Pos = append(groups[g].Pos, i)
	}
	return groups
}
