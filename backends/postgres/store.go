package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// Get returns the value at key. A history yields [kv.ErrWrongType].
func (s *Store) Get(ctx context.Context, key string) (_ []byte, err error) {
	defer s.counters.Done(metrics.OpGet, &err)
	if err := s.begin(ctx, "get", key); err != nil {
		return nil, err
	}
	var value []byte
	var history bool
	err = s.pool.QueryRow(ctx, s.q.get, []byte(key)).Scan(&value, &history)
	return plainValue("get", key, value, history, err)
}

// plainValue returns the result of reading a plain value: a copy of value,
// never nil, or the error that a missing key, a history or err calls for.
func plainValue(op, key string, value []byte, history bool, err error) ([]byte, error) {
	switch {
	case noRows(err):
		return nil, fmt.Errorf("postgres: %s: %w", describe(op, key), kv.ErrNotFound)
	case err != nil:
		return nil, wrap(op, key, err)
	case history:
		return nil, fmt.Errorf("postgres: %s: key holds a history: %w", describe(op, key), kv.ErrWrongType)
	case value == nil:
		return []byte{}, nil
	}
	return value, nil
}

// Set stores value at key, replacing a value or history and removing any
// expiry.
func (s *Store) Set(ctx context.Context, key string, value []byte) (err error) {
	defer s.counters.Done(metrics.OpSet, &err)
	return s.set(ctx, "set", key, value, 0)
}

// SetWithTTL stores value at key with an expiry ttl from now, rounded up to
// a microsecond. A ttl of zero or less yields [kv.ErrInvalid].
func (s *Store) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) (err error) {
	defer s.counters.Done(metrics.OpSetWithTTL, &err)
	if err := checkTTL("set", key, ttl); err != nil {
		return err
	}
	return s.set(ctx, "set", key, value, ttl)
}

// set stores value at key, with an expiry when ttl is positive.
func (s *Store) set(ctx context.Context, op, key string, value []byte, ttl time.Duration) error {
	if err := s.begin(ctx, op, key); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	_, err := s.pool.Exec(ctx, s.q.set, []byte(key), value, micros(ttl))
	return wrap(op, key, err)
}

// replaceRow is the conflict branch of an INSERT that replaces the row with
// the one proposed.
const replaceRow = `ON CONFLICT (key) DO UPDATE SET
	value = excluded.value, history = NULL, expires_at = excluded.expires_at, writes = t.writes + 1`

// expiry returns the SQL expression of the expiry that parameter n, a TTL in
// microseconds, gives: none for zero.
func expiry(n int) string {
	p := fmt.Sprintf("$%d::int8", n)
	return "CASE WHEN " + p + " > 0 THEN now() + " + p + " * interval '1 microsecond' END"
}

// Delete removes key and reports whether it existed.
func (s *Store) Delete(ctx context.Context, key string) (_ bool, err error) {
	defer s.counters.Done(metrics.OpDelete, &err)
	if err := s.begin(ctx, "delete", key); err != nil {
		return false, err
	}
	var existed bool
	err = s.pool.QueryRow(ctx,
		`DELETE FROM `+s.q.table+` AS t WHERE t.key = $1 RETURNING `+live, []byte(key)).Scan(&existed)
	if noRows(err) {
		return false, nil
	}
	return existed, wrap("delete", key, err)
}

// GetMulti reads every key in one query.
func (s *Store) GetMulti(ctx context.Context, keys []string) (_ []kv.Value, err error) {
	defer s.counters.Done(metrics.OpGetMulti, &err)
	if err := s.begin(ctx, "get multi", ""); err != nil {
		return nil, err
	}
	out := make([]kv.Value, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	// first maps each key to its first position in keys: each row fills
	// that one, and a key listed again gets a copy afterwards.
	first := make(map[string]int, len(keys))
	for i, key := range keys {
		if _, seen := first[key]; !seen {
			first[key] = i
		}
	}
	rows, err := s.pool.Query(ctx, s.q.getMulti, byteKeys(keys))
	if err != nil {
		return nil, wrap("get multi", "", err)
	}
	// k is the driver's buffer, valid until the next row: it is only
	// looked up. pgx scans each value into a new slice, the caller's to
	// keep, as in Get.
	var k pgtype.DriverBytes
	for rows.Next() {
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, wrap("get multi", "", err)
		}
		if i, ok := first[string(k)]; ok {
			out[i] = kv.Value{Data: nonNil(v), Found: true}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("get multi", "", err)
	}
	for i, key := range keys {
		if j := first[key]; j != i && out[j].Found {
			out[i] = kv.Value{Data: append([]byte{}, out[j].Data...), Found: true}
		}
	}
	return out, nil
}

// byteKeys returns keys as a bytea[] parameter.
func byteKeys(keys []string) [][]byte {
	b := make([][]byte, len(keys))
	for i, k := range keys {
		b[i] = []byte(k)
	}
	return b
}

// TTL returns the time key has left, [kv.NoExpiry] if none.
func (s *Store) TTL(ctx context.Context, key string) (_ time.Duration, err error) {
	defer s.counters.Done(metrics.OpTTL, &err)
	if err := s.begin(ctx, "ttl", key); err != nil {
		return 0, err
	}
	var left *int64
	err = s.pool.QueryRow(ctx, `SELECT `+timeLeftMicros+` FROM `+s.q.table+` AS t WHERE t.key = $1 AND `+live,
		[]byte(key)).Scan(&left)
	return timeLeft("ttl", key, left, err)
}

// timeLeftMicros is the SQL expression of the microseconds that t has left
// to live, NULL when it has no expiry.
const timeLeftMicros = `(extract(epoch FROM t.expires_at - now()) * 1000000)::int8`

// timeLeft returns the TTL that left, the microseconds read with a key (nil
// when it has no expiry), stands for.
func timeLeft(op, key string, left *int64, err error) (time.Duration, error) {
	switch {
	case noRows(err):
		return 0, fmt.Errorf("postgres: %s: %w", describe(op, key), kv.ErrNotFound)
	case err != nil:
		return 0, wrap(op, key, err)
	case left == nil:
		return kv.NoExpiry, nil
	}
	return max(time.Duration(*left)*time.Microsecond, time.Microsecond), nil
}
