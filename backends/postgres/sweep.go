package postgres

import (
	"context"
	"strconv"
	"time"
)

// sweepBatch bounds the rows one sweep statement deletes.
const sweepBatch = 1000

// sweep deletes the rows of expired keys every interval until ctx ends.
// Reads filter expired rows themselves; the sweep only frees the space.
func (s *Store) sweep(ctx context.Context, interval time.Duration) {
	defer close(s.swept)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !s.schemaReady.Load() && s.createOnUse {
			continue
		}
		for {
			tag, err := s.pool.Exec(ctx, `DELETE FROM `+s.q.table+` WHERE key IN (
				SELECT key FROM `+s.q.table+` WHERE expires_at <= now() LIMIT `+strconv.Itoa(sweepBatch)+`
				FOR UPDATE SKIP LOCKED) AND expires_at <= now()`)
			if err != nil || tag.RowsAffected() < sweepBatch {
				break // a failed sweep is tried again at the next tick
			}
		}
	}
}
