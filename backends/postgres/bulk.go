package postgres

import (
	"context"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// SetMulti stores every item in one statement, so that all of them are
// written or none is. When a key appears more than once the last item wins.
// An item with a negative TTL yields [kv.ErrInvalid] before anything is
// written.
func (s *Store) SetMulti(ctx context.Context, items []kv.Item) (err error) {
	defer s.counters.Done(metrics.OpSetMulti, &err)
	for _, it := range items {
		if it.TTL < 0 {
			return checkTTL("set multi", it.Key, it.TTL)
		}
	}
	if err := s.begin(ctx, "set multi", ""); err != nil {
		return err
	}
	last := make(map[string]int, len(items))
	for i, it := range items {
		last[it.Key] = i
	}
	keys := make([][]byte, 0, len(last))
	values := make([][]byte, 0, len(last))
	ttls := make([]int64, 0, len(last))
	for i, it := range items {
		if last[it.Key] != i {
			continue
		}
		keys = append(keys, []byte(it.Key))
		values = append(values, nonNil(it.Value))
		ttls = append(ttls, micros(it.TTL))
	}
	if len(keys) == 0 {
		return nil
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO `+s.q.table+` AS t (key, value, expires_at)
		SELECT i.key, i.value, CASE WHEN i.ttl > 0 THEN now() + i.ttl * interval '1 microsecond' END
		FROM unnest($1::bytea[], $2::bytea[], $3::int8[]) AS i (key, value, ttl)
		`+replaceRow,
		keys, values, ttls)
	return wrap("set multi", "", err)
}

// DeleteMulti removes every listed key in one statement and returns how many
// existed.
func (s *Store) DeleteMulti(ctx context.Context, keys []string) (_ int, err error) {
	defer s.counters.Done(metrics.OpDeleteMulti, &err)
	if err := s.begin(ctx, "delete multi", ""); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	var n int
	err = s.pool.QueryRow(ctx, `WITH d AS (DELETE FROM `+s.q.table+` AS t WHERE t.key = ANY($1) RETURNING `+live+` AS was)
		SELECT count(*) FILTER (WHERE was) FROM d`, byteKeys(keys)).Scan(&n)
	if err != nil {
		return 0, wrap("delete multi", "", err)
	}
	return n, nil
}
