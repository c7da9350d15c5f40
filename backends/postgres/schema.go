package postgres

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/cledar/storekit/kv"
)

// SchemaVersion is the version of the table layout that this package reads
// and writes. It is stored in the table Table+"_schema".
const SchemaVersion = 1

// migrations[v-1] takes the tables from version v-1 to version v; the first
// creates them. %[1]s is the quoted schema, %[2]s the table and %[3]s its
// expiry index.
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS %[2]s (
		key        bytea PRIMARY KEY,
		value      bytea,
		history    bytea[],
		expires_at timestamptz,
		CHECK ((value IS NULL) <> (history IS NULL))
	);
	CREATE INDEX IF NOT EXISTS %[3]s ON %[2]s (expires_at) WHERE expires_at IS NOT NULL`,
}

// CreateSchema creates the store's schema and tables if they do not exist,
// and brings a layout written by an older version of this package up to
// [SchemaVersion], in one transaction. It is the way to create them (or set
// [Options.CreateSchema]); the role needs the CREATE privilege on the
// database or schema. Several processes may call it at once.
//
// A table whose recorded version is newer than SchemaVersion yields an error
// wrapping [kv.ErrNotSupported]: upgrade this package first.
func (s *Store) CreateSchema(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: create schema: %w", kv.ErrClosed)
	}
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	if s.schemaReady.Load() {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialize concurrent creators: CREATE ... IF NOT EXISTS may still
		// collide on the catalogs.
		h := fnv.New64a()
		h.Write([]byte(s.q.table))
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+s.q.schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+s.q.versionTable+` (version int NOT NULL)`); err != nil {
			return err
		}
		var version int
		err := tx.QueryRow(ctx, `SELECT version FROM `+s.q.versionTable).Scan(&version)
		switch {
		case noRows(err):
			version = 0
			if _, err := tx.Exec(ctx, `INSERT INTO `+s.q.versionTable+` (version) VALUES (0)`); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if version > SchemaVersion {
			return fmt.Errorf("table %s has schema version %d, newer than this package's %d: %w",
				s.q.table, version, SchemaVersion, kv.ErrNotSupported)
		}
		for v := version; v < SchemaVersion; v++ {
			if _, err := tx.Exec(ctx, fmt.Sprintf(migrations[v], s.q.schema, s.q.table, s.q.expiryIndex)); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE `+s.q.versionTable+` SET version = $1`, SchemaVersion)
		return err
	})
	if err != nil {
		return wrap("create schema", "", err)
	}
	s.schemaReady.Store(true)
	return nil
}
