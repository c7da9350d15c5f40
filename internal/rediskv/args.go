package rediskv

import (
	"context"
	"unsafe"
)

// arg returns value as an argument of a command run with ctx: its bytes in
// place, or a copy when the client says it must hold one (Client.CopyArgs).
// The caller does not change value during the call.
func (s *Store) arg(ctx context.Context, value []byte) string {
	if s.c.CopyArgs(ctx) {
		return string(value)
	}
	return unsafe.String(unsafe.SliceData(value), len(value))
}
