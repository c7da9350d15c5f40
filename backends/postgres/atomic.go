package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// SetIfAbsent stores value at key only if key does not exist (an expired
// key does not), in one statement, and reports whether it did. A positive
// ttl gives the key that expiry; a negative one yields [kv.ErrInvalid].
func (s *Store) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (_ bool, err error) {
	defer s.counters.Done(metrics.OpSetIfAbsent, &err)
	if ttl < 0 {
		return false, checkTTL("set if absent", key, ttl)
	}
	if err := s.begin(ctx, "set if absent", key); err != nil {
		return false, err
	}
	if value == nil {
		value = []byte{}
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO `+s.q.table+` AS t (key, value, expires_at)
		VALUES ($1, $2, `+expiry(3)+`)
		`+replaceRow+`
		WHERE NOT `+live, []byte(key), value, micros(ttl))
	if err != nil {
		return false, wrap("set if absent", key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// CompareAndSwap replaces key's plain value with new only if it equals old,
// in one statement. [kv.KeepTTL] keeps the expiry; a positive ttl sets a new
// one.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (_ bool, err error) {
	defer s.counters.Done(metrics.OpCompareAndSwap, &err)
	if ttl < 0 {
		return false, checkTTL("compare and swap", key, ttl)
	}
	if err := s.begin(ctx, "compare and swap", key); err != nil {
		return false, err
	}
	if new == nil {
		new = []byte{}
	}
	return s.compareAnd(ctx, "compare and swap", key, `UPDATE `+s.q.table+` AS t
		SET value = $3, writes = t.writes + 1, expires_at = CASE WHEN $4::int8 > 0 THEN now() + $4::int8 * interval '1 microsecond' ELSE t.expires_at END
		WHERE t.key = $1 AND t.value = $2 AND `+live+` RETURNING 1`,
		[]byte(key), nonNil(old), new, micros(ttl))
}

// CompareAndDelete deletes key only if it holds a plain value equal to old,
// in one statement.
func (s *Store) CompareAndDelete(ctx context.Context, key string, old []byte) (_ bool, err error) {
	defer s.counters.Done(metrics.OpCompareAndDelete, &err)
	if err := s.begin(ctx, "compare and delete", key); err != nil {
		return false, err
	}
	return s.compareAnd(ctx, "compare and delete", key, `DELETE FROM `+s.q.table+` AS t
		WHERE t.key = $1 AND t.value = $2 AND `+live+` RETURNING 1`, []byte(key), nonNil(old))
}

// compareAnd runs write, a statement on the row of key ($1) that returns a
// row when it wrote, and reports whether it did; when it did not and key
// holds a history, the error wraps kv.ErrWrongType. Both are read in one
// statement.
func (s *Store) compareAnd(ctx context.Context, op, key, write string, args ...any) (bool, error) {
	var history *bool
	var wrote bool
	err := s.pool.QueryRow(ctx, `WITH w AS (`+write+`)
		SELECT (SELECT t.history IS NOT NULL FROM `+s.q.table+` AS t WHERE t.key = $1 AND `+live+`),
			EXISTS (SELECT FROM w)`, args...).Scan(&history, &wrote)
	switch {
	case err != nil:
		return false, wrap(op, key, err)
	case !wrote && history != nil && *history:
		return false, fmt.Errorf("postgres: %s: key holds a history: %w", describe(op, key), kv.ErrWrongType)
	}
	return wrote, nil
}

// nonNil returns b, or an empty slice for nil (which pgx would send as
// NULL).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// counterText is the condition that t.value is a counter as Redis reads it
// (see kv.ParseCounter); the CASE keeps the numeric cast from text that is
// not one.
const counterText = `CASE WHEN t.history IS NULL AND length(t.value) <= 20
		AND encode(t.value, 'escape') ~ '^(0|-?[1-9][0-9]*)$'
	THEN encode(t.value, 'escape')::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
	ELSE false END`

// Incr adds delta to the counter at key in one statement and returns the
// sum. A value that is not a counter, or a history, yields
// [kv.ErrWrongType]; a sum beyond int64 [kv.ErrInvalid]. The expiry is kept.
func (s *Store) Incr(ctx context.Context, key string, delta int64) (_ int64, err error) {
	defer s.counters.Done(metrics.OpIncr, &err)
	if err := s.begin(ctx, "incr", key); err != nil {
		return 0, err
	}
	var sum []byte
	err = s.pool.QueryRow(ctx, `INSERT INTO `+s.q.table+` AS t (key, value) VALUES ($1, convert_to($2::int8::text, 'UTF8'))
		ON CONFLICT (key) DO UPDATE SET
			value = CASE WHEN `+live+`
				THEN convert_to((encode(t.value, 'escape')::numeric + $2::int8)::int8::text, 'UTF8')
				ELSE excluded.value END,
			history = NULL,
			writes = t.writes + 1,
			expires_at = CASE WHEN `+live+` THEN t.expires_at END
		WHERE NOT `+live+` OR `+counterText+`
		RETURNING t.value`, []byte(key), delta).Scan(&sum)
	switch {
	case noRows(err):
		return 0, fmt.Errorf("postgres: incr %s: value is not the decimal text of an int64: %w", kv.QuoteKey(key), kv.ErrWrongType)
	case err != nil:
		return 0, wrap("incr", key, err)
	}
	n, err := strconv.ParseInt(string(sum), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("postgres: incr %s: %w", kv.QuoteKey(key), err)
	}
	return n, nil
}

// Expire gives key a new expiry ttl from now and reports whether it exists.
func (s *Store) Expire(ctx context.Context, key string, ttl time.Duration) (_ bool, err error) {
	defer s.counters.Done(metrics.OpExpire, &err)
	if err := checkTTL("expire", key, ttl); err != nil {
		return false, err
	}
	return s.setExpiry(ctx, "expire", key, micros(ttl))
}

// Persist removes key's expiry and reports whether it exists, in one
// statement. A key without an expiry is left as it is: no row is written.
func (s *Store) Persist(ctx context.Context, key string) (_ bool, err error) {
	defer s.counters.Done(metrics.OpPersist, &err)
	if err := s.begin(ctx, "persist", key); err != nil {
		return false, err
	}
	var exists bool
	err = s.pool.QueryRow(ctx, `WITH persisted AS (
			UPDATE `+s.q.table+` AS t SET expires_at = NULL
			WHERE t.key = $1 AND t.expires_at IS NOT NULL AND `+live+`
			RETURNING 1)
		SELECT EXISTS (SELECT FROM persisted)
			OR EXISTS (SELECT FROM `+s.q.table+` AS t WHERE t.key = $1 AND `+live+`)`,
		[]byte(key)).Scan(&exists)
	if err != nil {
		return false, wrap("persist", key, err)
	}
	return exists, nil
}

// setExpiry sets the expiry of a live key to ttl microseconds from now and
// reports whether the key exists.
func (s *Store) setExpiry(ctx context.Context, op, key string, ttl int64) (bool, error) {
	if err := s.begin(ctx, op, key); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE `+s.q.table+` AS t SET expires_at = `+expiry(2)+`
		WHERE t.key = $1 AND `+live, []byte(key), ttl)
	if err != nil {
		return false, wrap(op, key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// GetWithTTL returns key's value and the time it has left, read in one
// query.
func (s *Store) GetWithTTL(ctx context.Context, key string) (_ []byte, _ time.Duration, err error) {
	defer s.counters.Done(metrics.OpGetWithTTL, &err)
	if err := s.begin(ctx, "get with ttl", key); err != nil {
		return nil, 0, err
	}
	var value []byte
	var history bool
	var left *int64
	err = s.pool.QueryRow(ctx, `SELECT t.value, t.history IS NOT NULL, `+timeLeftMicros+`
		FROM `+s.q.table+` AS t WHERE t.key = $1 AND `+live, []byte(key)).Scan(&value, &history, &left)
	value, err = plainValue("get with ttl", key, value, history, err)
	if err != nil {
		return nil, 0, err
	}
	ttl, err := timeLeft("get with ttl", key, left, nil)
	return value, ttl, err
}
