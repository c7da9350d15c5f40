package kv

import (
	"context"
	"fmt"
	"slices"
)

// SetMulti stores every item. It uses s's [BulkWriter] when s has one;
// otherwise it writes the last item of each key, one at a time in order,
// with Set, or with SetWithTTL for an item with a TTL (which needs s to be
// an [Expirer]: without one, an item with a TTL yields ErrNotSupported
// before anything is written). An item with a negative TTL yields
// ErrInvalid before anything is written.
//
// When the fallback fails after writing some items, the error is a
// [*BulkError] that says which; the items after the failing one are not
// written.
func SetMulti(ctx context.Context, s Store, items []Item) error {
	if bw, ok := s.(BulkWriter); ok {
		return bw.SetMulti(ctx, items)
	}
	ex, _ := s.(Expirer)
	for _, it := range items {
		if it.TTL < 0 {
			return fmt.Errorf("kv: set %s: negative TTL %v: %w", QuoteKey(it.Key), it.TTL, ErrInvalid)
		}
		if it.TTL > 0 && ex == nil {
			return fmt.Errorf("kv: set %s with a TTL: %T does not implement kv.Expirer: %w", QuoteKey(it.Key), s, ErrNotSupported)
		}
	}
	// A key listed more than once is written once, with its last item; the
	// items it replaces are done when that one is.
	last := make(map[string]int, len(items))
	for i, it := range items {
		last[it.Key] = i
	}
	written := make([]bool, len(items))
	for i, it := range items {
		if last[it.Key] != i {
			continue
		}
		var err error
		if it.TTL > 0 {
			err = ex.SetWithTTL(ctx, it.Key, it.Value, it.TTL)
		} else {
			err = s.Set(ctx, it.Key, it.Value)
		}
		if err != nil {
			if !slices.Contains(written, true) {
				return err
			}
			done := make([]bool, len(items))
			for j, it := range items {
				done[j] = written[last[it.Key]]
			}
			return &BulkError{Done: done, Err: err}
		}
		written[i] = true
	}
	return nil
}

// DeleteMulti removes every key of keys that exists and returns how many it
// removed. It uses s's [BulkWriter] when s has one; otherwise it calls
// Delete once per key, in order.
//
// When the fallback fails after deleting some keys, the error is a
// [*BulkError] that says which keys are done, and the count is of the keys
// removed before the failure.
func DeleteMulti(ctx context.Context, s Store, keys []string) (int, error) {
	if bw, ok := s.(BulkWriter); ok {
		return bw.DeleteMulti(ctx, keys)
	}
	done := make([]bool, len(keys))
	n := 0
	for i, k := range keys {
		ok, err := s.Delete(ctx, k)
		if err != nil {
			if i == 0 {
				return 0, err
			}
			return n, &BulkError{Done: done, Err: err}
		}
		if ok {
			n++
		}
		done[i] = true
	}
	return n, nil
}

// asConditional returns s's Conditional, or an error wrapping
// ErrNotSupported that names what op needs.
func asConditional(s Store, op string) (Conditional, error) {
	c, ok := s.(Conditional)
	if !ok {
		return nil, fmt.Errorf("kv: %s: %T does not implement kv.Conditional: %w", op, s, ErrNotSupported)
	}
	return c, nil
}
