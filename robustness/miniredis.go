package robustness

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/alicebob/miniredis/v2"

	"github.com/cledar/storekit/kv"
)

// miniredisTargets returns the Redis stores of redisKinds that do without
// a client-side cache (miniredis has no CLIENT TRACKING), goredis and
// rueidiskv-nocache, each on a miniredis server of its own, started for
// tb. miniredis's clock moves only when FastForward is called, so each
// target's Advance is its server's FastForward, and it sends no keyspace
// notifications, so the targets have NoNotifications.
func miniredisTargets(tb testing.TB) []Target {
	tb.Helper()
	var targets []Target
	for _, k := range redisKinds {
		if k.cached {
			continue
		}
		m := miniredis.RunT(tb)
		targets = append(targets, Target{Name: k.name + "/miniredis", Advance: m.FastForward, NoNotifications: true,
			AddCounter: miniredisAddCounter, New: func(tb testing.TB) kv.Store {
				return opened(tb, func(ctx context.Context) (kv.Store, error) {
					s, err := k.open(ctx, hostPort(tb, m.Addr()))
					if err != nil {
						return nil, err
					}
					return miniScan{s.(fullStore)}, nil
				})
			}})
	}
	return targets
}

// miniScan is a store on miniredis whose Scan, for a pattern with a
// character class or a byte that is not UTF-8, sends the server the
// literal prefix of the pattern followed by '*' instead, and filters the
// keys with kv.Match. miniredis copies a class into a Go regular
// expression, where it may mean something else than in Redis ("[\d]" is a
// digit, not 'd'), and the regular expression panics its server goroutine,
// ending the test binary, on a reversed range such as "[b-a]" (which Redis
// reads as "[a-b]") and on bytes that are not UTF-8.
type miniScan struct{ fullStore }

// Scan implements kv.Scanner.
func (m miniScan) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	prefix, ok := miniredisPrefix(pattern)
	if !ok {
		return m.fullStore.Scan(ctx, pattern)
	}
	return func(yield func(string, error) bool) {
		for k, err := range m.fullStore.Scan(ctx, prefix+"*") {
			if err != nil {
				yield("", err)
				return
			}
			if kv.Match(pattern, k) && !yield(k, nil) {
				return
			}
		}
	}
}

// miniredisPrefix returns the part of pattern before its first unescaped
// wildcard or its first byte that is not UTF-8, and whether pattern has an
// unescaped '[' (a character class) or a byte that is not UTF-8, which
// miniredis cannot match as Redis does.
func miniredisPrefix(pattern string) (string, bool) {
	end, class := -1, false
	for i := 0; i < len(pattern); {
		start := i
		if pattern[i] == '\\' && i+1 < len(pattern) {
			i++
		}
		r, size := utf8.DecodeRuneInString(pattern[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			if end < 0 {
				end = start
			}
			return pattern[:end], true
		}
		if start == i-size && (r == '*' || r == '?' || r == '[') && end < 0 {
			end = start
		}
		class = class || (start == i-size && r == '[')
	}
	if end < 0 {
		end = len(pattern)
	}
	return pattern[:end], class
}

// miniredisAddCounter is kv.AddCounter as miniredis's INCRBY computes it:
// it reads the value with strconv.Atoi, which accepts a leading '+' and
// leading zeros ("+1", "01", "-0") that Redis refuses as not an integer.
func miniredisAddCounter(value []byte, delta int64) (int64, error) {
	n, err := strconv.ParseInt(string(value), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer for strconv.Atoi: %w", value, kv.ErrWrongType)
	}
	return kv.AddCounter(strconv.AppendInt(nil, n, 10), delta)
}
