package kv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// GetMulti reads many keys at once. It uses s's [MultiGetter] when s has one;
// otherwise it calls Get once per key, marking a key missing when Get reports
// ErrNotFound or ErrWrongType (as Redis MGET does for a key of another type).
// Any other error fails the whole call.
//
// The result has one Value per key, in the order of keys.
func GetMulti(ctx context.Context, s Store, keys []string) ([]Value, error) {
	if mg, ok := s.(MultiGetter); ok {
		return mg.GetMulti(ctx, keys)
	}
	vals := make([]Value, len(keys))
	for i, k := range keys {
		data, err := s.Get(ctx, k)
		switch {
		case err == nil:
			vals[i] = Value{Data: data, Found: true}
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrWrongType):
			// missing: the zero Value
		default:
			return nil, err
		}
	}
	return vals, nil
}

// Keys returns the keys of s that match pattern (see [Match]), each once, in
// sorted order. It needs s to implement [Scanner]; otherwise it returns an
// error wrapping ErrNotSupported.
//
// Keys holds every matching key in memory; iterate with [Scanner.Scan] to
// walk a large key space.
func Keys(ctx context.Context, s Store, pattern string) ([]string, error) {
	sc, ok := s.(Scanner)
	if !ok {
		return nil, fmt.Errorf("kv: %T does not implement kv.Scanner: %w", s, ErrNotSupported)
	}
	seen := make(map[string]struct{})
	for k, err := range sc.Scan(ctx, pattern) {
		if err != nil {
			return nil, err
		}
		seen[k] = struct{}{}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}

// MaxQuotedKey is how many bytes of a key [QuoteKey] quotes.
const MaxQuotedKey = 128

// QuoteKey returns key quoted as Go quotes strings (strconv.Quote), for an
// error's text; a key longer than MaxQuotedKey bytes is cut there, and the
// quote is followed by the key's length, such as
// "user:aaaa..."... (1048576 bytes). Backends quote keys with it so that an
// error's text stays short whatever the key.
func QuoteKey(key string) string {
	if len(key) <= MaxQuotedKey {
		return strconv.Quote(key)
	}
	return strconv.Quote(key[:MaxQuotedKey]) + "... (" + strconv.Itoa(len(key)) + " bytes)"
}
