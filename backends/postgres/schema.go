package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cledar/storekit/kv"
)

// SchemaVersion is the version of the table layout that this package reads
// and writes. It is stored in the table Table+"_schema".
const SchemaVersion = 1

// migrations[v-1] takes the tables from version v-1 to version v; the first
// creates them. The verbs are filled by [queries.migration].
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS %[2]s (
		key        bytea PRIMARY KEY,
		value      bytea,
		history    bytea[],
		expires_at timestamptz,
		writes     int8 NOT NULL DEFAULT 0,
		CHECK ((value IS NULL) <> (history IS NULL))
	);
	CREATE INDEX IF NOT EXISTS %[3]s ON %[2]s (expires_at) WHERE expires_at IS NOT NULL;
	CREATE OR REPLACE FUNCTION %[4]s() RETURNS trigger LANGUAGE plpgsql AS $fn$
	DECLARE
		ops text := '';
		k bytea;
		payload text;
	BEGIN
		IF TG_OP = 'DELETE' THEN
			k := OLD.key;
			ops := CASE WHEN OLD.expires_at <= now() THEN 'x' ELSE 'd' END;
		ELSE
			k := NEW.key;
			IF TG_OP = 'UPDATE' AND OLD.expires_at <= now() THEN
				ops := 'x';
			END IF;
			IF TG_OP = 'INSERT' OR ops = 'x' THEN
				ops := ops || CASE WHEN NEW.history IS NULL THEN 's' ELSE 'a' END;
				IF NEW.expires_at IS NOT NULL THEN
					ops := ops || 'e';
				END IF;
			ELSIF NEW.writes <> OLD.writes THEN
				IF NEW.history IS NULL THEN
					ops := 's';
				ELSIF OLD.history IS NULL THEN
					ops := 'da';
				ELSIF cardinality(NEW.history) > cardinality(OLD.history) THEN
					ops := 'a';
				ELSE
					ops := 's';
				END IF;
				IF NEW.expires_at IS NOT NULL AND NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
					ops := ops || 'e';
				END IF;
			ELSIF NEW.expires_at IS NOT NULL THEN
				ops := 'e';
			ELSIF OLD.expires_at IS NOT NULL THEN
				ops := 'o';
			END IF;
		END IF;
		IF ops = '' THEN
			RETURN NULL;
		END IF;
		payload := ops || ':' || encode(k, 'hex');
		IF octet_length(payload) > %[6]d THEN
			payload := 'r:';
		END IF;
		PERFORM pg_notify(TG_ARGV[0], payload);
		RETURN NULL;
	END
	$fn$;
	DROP TRIGGER IF EXISTS %[5]s ON %[2]s;
	CREATE TRIGGER %[5]s AFTER INSERT OR UPDATE OR DELETE ON %[2]s
		FOR EACH ROW EXECUTE FUNCTION %[4]s('%[7]s')`,
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
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, s.q.table); err != nil {
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
			if _, err := tx.Exec(ctx, s.q.migration(v)); err != nil {
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
