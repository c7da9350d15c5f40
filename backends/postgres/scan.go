package postgres

import (
	"context"
	"iter"
	"strconv"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// scanPage is how many keys one query of Scan reads.
const scanPage = 500

// Scan yields the live keys that match pattern, a Redis glob (see
// [kv.Match]), in key order, one page of keys per query: the literal prefix
// of the pattern becomes a range of keys, and kv.Match checks the rest.
// Each page is read at its own instant: keys written or deleted during the
// iteration may or may not appear, and a key present throughout appears
// once.
func (s *Store) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return s.counters.Seq(metrics.OpScan, func(yield func(string, error) bool) {
		lo, hi := keyRange(literalPrefix(pattern))
		after := lo
		inclusive := true // the first page may start at lo itself
		for {
			if err := s.begin(ctx, "scan", ""); err != nil {
				yield("", err)
				return
			}
			keys, err := s.scanPage(ctx, after, inclusive, hi)
			if err != nil {
				yield("", err)
				return
			}
			for _, k := range keys {
				if kv.Match(pattern, k) && !yield(k, nil) {
					return
				}
			}
			if len(keys) < scanPage {
				return
			}
			after, inclusive = []byte(keys[len(keys)-1]), false
		}
	})
}

// scanPage reads the next page of live keys from after (itself included
// when inclusive) up to hi (excluded; nil for no bound).
func (s *Store) scanPage(ctx context.Context, after []byte, inclusive bool, hi []byte) ([]string, error) {
	cmp := ">"
	if inclusive {
		cmp = ">="
	}
	rows, err := s.pool.Query(ctx, `SELECT t.key FROM `+s.q.table+` AS t
		WHERE t.key `+cmp+` $1 AND ($2::bytea IS NULL OR t.key < $2) AND `+live+`
		ORDER BY t.key LIMIT `+strconv.Itoa(scanPage), after, hi)
	if err != nil {
		return nil, wrap("scan", "", err)
	}
	defer rows.Close()
	var keys []string
	var k []byte
	for rows.Next() {
		if err := rows.Scan(&k); err != nil {
			return nil, wrap("scan", "", err)
		}
		keys = append(keys, string(k))
	}
	return keys, wrap("scan", "", rows.Err())
}

// literalPrefix returns the bytes that every key matching pattern starts
// with: the pattern up to its first '*', '?' or '[', with escapes undone.
func literalPrefix(pattern string) []byte {
	var prefix []byte
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*', '?', '[':
			return prefix
		case '\\':
			if i+1 == len(pattern) {
				return prefix // a trailing backslash: let kv.Match judge it
			}
			i++
			prefix = append(prefix, pattern[i])
		default:
			prefix = append(prefix, c)
		}
	}
	return prefix
}

// keyRange returns the range [lo, hi) of the keys that start with prefix;
// hi is nil when there is no upper bound.
func keyRange(prefix []byte) (lo, hi []byte) {
	lo = append([]byte{}, prefix...)
	hi = append([]byte{}, prefix...)
	for len(hi) > 0 && hi[len(hi)-1] == 0xff {
		hi = hi[:len(hi)-1]
	}
	if len(hi) == 0 {
		return lo, nil
	}
	hi[len(hi)-1]++
	return lo, hi
}
