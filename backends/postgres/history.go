package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// A history is the array column history of a key's row (value is then
// NULL): version n is element n. A plain value counts as version 1.

// appendSQL appends $2 to the history of key $1, converting a plain value
// into version 1 (which drops its expiry) and replacing an expired key; it
// returns the new version. The caller adds a WHERE clause to the conflict
// branch, or none.
func (s *Store) appendSQL(where string) string {
	return `INSERT INTO ` + s.q.table + ` AS t (key, history) VALUES ($1, ARRAY[$2::bytea])
		ON CONFLICT (key) DO UPDATE SET
			history = CASE WHEN ` + live + ` THEN coalesce(t.history, ARRAY[t.value]) || $2::bytea ELSE ARRAY[$2::bytea] END,
			value = NULL,
			writes = t.writes + 1,
			expires_at = CASE WHEN ` + live + ` AND t.history IS NOT NULL THEN t.expires_at END
		` + where + `
		RETURNING cardinality(t.history)`
}

// Append adds value as the newest version of key's history, in one
// statement, and returns its version.
func (s *Store) Append(ctx context.Context, key string, value []byte) (_ int64, err error) {
	defer s.counters.Done(metrics.OpAppend, &err)
	if err := s.begin(ctx, "append", key); err != nil {
		return 0, err
	}
	var version int64
	err = s.pool.QueryRow(ctx, s.appendSQL(""), []byte(key), nonNil(value)).Scan(&version)
	if err != nil {
		return 0, wrap("append", key, err)
	}
	return version, nil
}

// AppendIf appends value only if the latest version is expect, in one
// statement, and returns expect+1; otherwise the error is a
// [*kv.VersionConflict] holding the version that statement found. An
// AppendIf expecting 0 whose insert meets a key created after its
// statement began, which that statement cannot read, runs the statement
// again.
func (s *Store) AppendIf(ctx context.Context, key string, value []byte, expect int64) (_ int64, err error) {
	defer s.counters.Done(metrics.OpAppendIf, &err)
	if expect < 0 {
		return 0, fmt.Errorf("postgres: append if %s: negative version %d: %w", kv.QuoteKey(key), expect, kv.ErrInvalid)
	}
	if err := s.begin(ctx, "append if", key); err != nil {
		return 0, err
	}
	// A missing or expired key is inserted when expect is 0; a live key
	// is appended to when its version (its history's length, 1 for a plain
	// value) is expect.
	write := s.appendSQL(`WHERE NOT ` + live)
	args := []any{[]byte(key), nonNil(value)}
	if expect > 0 {
		write = `UPDATE ` + s.q.table + ` AS t SET
				history = coalesce(t.history, ARRAY[t.value]) || $2::bytea,
				value = NULL,
				writes = t.writes + 1,
				expires_at = CASE WHEN t.history IS NOT NULL THEN t.expires_at END
			FROM found WHERE t.key = found.key AND found.version = $3
			RETURNING cardinality(t.history)`
		args = append(args, expect)
	}
	// The same statement reads the version under a row lock, so that a
	// conflict reports the version the write was refused for, not a later
	// one (which might be the version expected).
	query := `WITH found(key, version) AS (
			SELECT t.key, ` + versionSQL + ` FROM ` + s.q.table + ` AS t
			WHERE t.key = $1 AND ` + live + ` FOR NO KEY UPDATE
		), appended(version) AS (` + write + `)
		SELECT (SELECT version FROM appended), coalesce((SELECT version FROM found), 0)`
	for {
		var appended *int64
		var latest int64
		if err := s.pool.QueryRow(ctx, query, args...).Scan(&appended, &latest); err != nil {
			return 0, wrap("append if", key, err)
		}
		switch {
		case appended != nil:
			return *appended, nil
		case latest != expect:
			return 0, fmt.Errorf("postgres: %w", &kv.VersionConflict{Key: key, Expected: expect, Latest: latest})
		}
		// Only with expect 0: the insert met a key created after the
		// statement began, which its reads cannot see. A new statement can.
	}
}

// Latest returns the newest entry of key's history and its version; a plain
// value is version 1.
func (s *Store) Latest(ctx context.Context, key string) (_ []byte, _ int64, err error) {
	defer s.counters.Done(metrics.OpLatest, &err)
	if err := s.begin(ctx, "latest", key); err != nil {
		return nil, 0, err
	}
	var value []byte
	var version int64
	err = s.pool.QueryRow(ctx, `SELECT `+latestSQL+` FROM `+s.q.table+` AS t WHERE t.key = $1 AND `+live,
		[]byte(key)).Scan(&value, &version)
	switch {
	case noRows(err):
		return nil, 0, fmt.Errorf("postgres: latest %s: %w", kv.QuoteKey(key), kv.ErrNotFound)
	case err != nil:
		return nil, 0, wrap("latest", key, err)
	}
	return nonNil(value), version, nil
}

// latestSQL selects the latest entry of row t and its version.
const latestSQL = `coalesce(t.history[cardinality(t.history)], t.value), ` + versionSQL

// versionSQL is the version of row t's latest entry: its history's length,
// 1 for a plain value.
const versionSQL = `coalesce(cardinality(t.history), 1)`

// LatestMulti returns the latest entry of every key, in one query.
func (s *Store) LatestMulti(ctx context.Context, keys []string) (_ []kv.LatestValue, err error) {
	defer s.counters.Done(metrics.OpLatestMulti, &err)
	if err := s.begin(ctx, "latest multi", ""); err != nil {
		return nil, err
	}
	out := make([]kv.LatestValue, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT t.key, `+latestSQL+` FROM `+s.q.table+` AS t
		WHERE t.key = ANY($1) AND `+live, byteKeys(keys))
	if err != nil {
		return nil, wrap("latest multi", "", err)
	}
	found := make(map[string]kv.LatestValue, len(keys))
	var k, v []byte
	var version int64
	for rows.Next() {
		if err := rows.Scan(&k, &v, &version); err != nil {
			rows.Close()
			return nil, wrap("latest multi", "", err)
		}
		found[string(k)] = kv.LatestValue{Value: append([]byte{}, v...), Version: version, Found: true}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("latest multi", "", err)
	}
	for i, key := range keys {
		out[i] = found[key]
	}
	return out, nil
}

// At returns version version of key's history.
func (s *Store) At(ctx context.Context, key string, version int64) (_ []byte, err error) {
	defer s.counters.Done(metrics.OpAt, &err)
	if version < 1 {
		return nil, fmt.Errorf("postgres: at %s: version %d below 1: %w", kv.QuoteKey(key), version, kv.ErrInvalid)
	}
	if err := s.begin(ctx, "at", key); err != nil {
		return nil, err
	}
	var value []byte
	var found bool
	err = s.pool.QueryRow(ctx, `SELECT e, e IS NOT NULL FROM (SELECT
			CASE WHEN t.history IS NULL THEN CASE WHEN $2 = 1 THEN t.value END
				WHEN $2 <= cardinality(t.history) THEN t.history[$2] END AS e
		FROM `+s.q.table+` AS t WHERE t.key = $1 AND `+live+`) AS v`, []byte(key), version).Scan(&value, &found)
	switch {
	case noRows(err) || (err == nil && !found):
		return nil, fmt.Errorf("postgres: at %s version %d: %w", kv.QuoteKey(key), version, kv.ErrNotFound)
	case err != nil:
		return nil, wrap("at", key, err)
	}
	return nonNil(value), nil
}

// History returns every entry of key's history, oldest first.
func (s *Store) History(ctx context.Context, key string) (_ [][]byte, err error) {
	defer s.counters.Done(metrics.OpHistory, &err)
	if err := s.begin(ctx, "history", key); err != nil {
		return nil, err
	}
	var history [][]byte
	err = s.pool.QueryRow(ctx, `SELECT coalesce(t.history, ARRAY[t.value]) FROM `+s.q.table+` AS t
		WHERE t.key = $1 AND `+live, []byte(key)).Scan(&history)
	switch {
	case noRows(err):
		return nil, fmt.Errorf("postgres: history %s: %w", kv.QuoteKey(key), kv.ErrNotFound)
	case err != nil:
		return nil, wrap("history", key, err)
	}
	for i := range history {
		history[i] = nonNil(history[i])
	}
	return history, nil
}

// Prune empties the entries of key's history below version before, never
// the newest, working back from before-1 and stopping at the first entry
// already empty; it returns how many it emptied. The read and the write are
// one transaction that locks the row.
func (s *Store) Prune(ctx context.Context, key string, before int64) (_ int, err error) {
	defer s.counters.Done(metrics.OpPrune, &err)
	if before < 1 {
		return 0, fmt.Errorf("postgres: prune %s: version %d below 1: %w", kv.QuoteKey(key), before, kv.ErrInvalid)
	}
	if err := s.begin(ctx, "prune", key); err != nil {
		return 0, err
	}
	emptied := 0
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var history [][]byte
		err := tx.QueryRow(ctx, `SELECT t.history FROM `+s.q.table+` AS t
			WHERE t.key = $1 AND `+live+` FOR UPDATE`, []byte(key)).Scan(&history)
		if noRows(err) || (err == nil && history == nil) {
			return nil // a missing key or a plain value
		}
		if err != nil {
			return err
		}
		for i := range history {
			history[i] = nonNil(history[i])
		}
		for v := min(before-1, int64(len(history)-1)); v >= 1 && len(history[v-1]) > 0; v-- {
			history[v-1] = []byte{}
			emptied++
		}
		if emptied == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE `+s.q.table+` SET history = $2, writes = writes + 1 WHERE key = $1`, []byte(key), history)
		return err
	})
	if err != nil {
		return 0, wrap("prune", key, err)
	}
	return emptied, nil
}
